# MLflow's backend store: MySQL, reached as mysql+pymysql://mlflow:...@<endpoint>:3306/mlflow.
resource "aws_db_subnet_group" "mlflow" {
  name       = "${var.name}-mlflow"
  subnet_ids = var.private_subnet_ids
}

resource "aws_security_group" "mlflow_db" {
  name        = "${var.name}-mlflow-db"
  description = "MySQL for the MLflow tracking server"
  vpc_id      = var.vpc_id

  ingress {
    description = "MLflow server"
    from_port   = 3306
    to_port     = 3306
    protocol    = "tcp"
    cidr_blocks = var.mlflow_client_cidrs
  }
}

resource "aws_db_instance" "mlflow" {
  identifier     = "${var.name}-mlflow"
  engine         = "mysql"
  engine_version = "8.0"
  instance_class = "db.t4g.medium"
  db_name        = "mlflow"
  username       = "mlflow"
  # The password lives in the cloud's secret manager and rotates there; nothing in state or Git.
  manage_master_user_password = true

  allocated_storage       = 20
  max_allocated_storage   = 200
  storage_encrypted       = true
  multi_az                = true
  db_subnet_group_name    = aws_db_subnet_group.mlflow.name
  vpc_security_group_ids  = [aws_security_group.mlflow_db.id]
  publicly_accessible     = false
  backup_retention_period = 14
  deletion_protection     = true
  # A final snapshot before any destroy: the registry's history is not recreatable.
  final_snapshot_identifier = "${var.name}-mlflow-final"
}
