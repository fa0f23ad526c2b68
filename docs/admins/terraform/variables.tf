variable "region" {
  description = "Cloud region of the bucket, the database and the cluster."
  type        = string
  default     = "eu-central-1"
}

variable "name" {
  description = "Prefix of every resource name (e.g. the organisation's ML platform)."
  type        = string
  default     = "acme-ml"
}

variable "vpc_id" {
  description = "VPC of the MLflow database and the Kubernetes cluster."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (two or more zones) for the database and the GPU nodes."
  type        = list(string)
}

variable "mlflow_client_cidrs" {
  description = "Where the MLflow server runs (its network ranges may reach MySQL on 3306)."
  type        = list(string)
}

variable "cluster_name" {
  description = "The existing Kubernetes (EKS) cluster that runs Actions Runner Controller."
  type        = string
}

variable "gpu_instance_types" {
  description = "GPU instance types of the runner pool (one GPU per runner pod)."
  type        = list(string)
  default     = ["g5.2xlarge"]
}

variable "gpu_max_nodes" {
  description = "Most GPU nodes at once: the cost ceiling. Keep ARC's maxRunners in step."
  type        = number
  default     = 8
}
