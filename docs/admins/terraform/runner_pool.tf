# The GPU node pool ARC's runner pods land on (docs/scale.md): label pool=gpu-a100 for the scale
# set's nodeSelector, a taint so only pods that tolerate it (the runners) are scheduled there, and
# a minimum of 0 nodes so no GPU is paid for while nothing trains.
data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "gpu_nodes" {
  name               = "${var.name}-gpu-nodes"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json
}

resource "aws_iam_role_policy_attachment" "gpu_nodes" {
  for_each = toset([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  ])
  role       = aws_iam_role.gpu_nodes.name
  policy_arn = each.value
}

resource "aws_eks_node_group" "gpu" {
  cluster_name    = var.cluster_name
  node_group_name = "${var.name}-gpu"
  node_role_arn   = aws_iam_role.gpu_nodes.arn
  subnet_ids      = var.private_subnet_ids
  instance_types  = var.gpu_instance_types
  ami_type        = "AL2023_x86_64_NVIDIA" # NVIDIA driver included
  capacity_type   = "ON_DEMAND"

  scaling_config {
    min_size     = 0
    desired_size = 0
    max_size     = var.gpu_max_nodes
  }

  labels = {
    pool = "gpu-a100"
  }

  taint {
    key    = "nvidia.com/gpu"
    value  = "true"
    effect = "NO_SCHEDULE"
  }

  # The cluster autoscaler changes desired_size; Terraform must not fight it.
  lifecycle {
    ignore_changes = [scaling_config[0].desired_size]
  }

  depends_on = [aws_iam_role_policy_attachment.gpu_nodes]
}
