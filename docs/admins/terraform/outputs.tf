output "dvc_remote_url" {
  description = "For `dvc remote add -d storage <url>/<project>`."
  value       = "s3://${aws_s3_bucket.ml.bucket}/dvc"
}

output "mlflow_artifacts_destination" {
  description = "For `mlflow server --artifacts-destination`."
  value       = "s3://${aws_s3_bucket.ml.bucket}/mlflow"
}

output "mlflow_backend_host" {
  description = "Host of mysql+pymysql://mlflow:PASSWORD@HOST:3306/mlflow (the password is in the secret manager)."
  value       = aws_db_instance.mlflow.address
}

output "mlflow_db_password_secret" {
  description = "The secret that holds the database password."
  value       = aws_db_instance.mlflow.master_user_secret[0].secret_arn
}

output "ci_object_store_policy_arn" {
  description = "Attach to the CI identity whose keys are the object-store secrets."
  value       = aws_iam_policy.ci.arn
}
