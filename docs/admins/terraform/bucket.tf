# The object store: DVC remotes under dvc/<project>/, MLflow artifacts under mlflow/.
resource "aws_s3_bucket" "ml" {
  bucket = "${var.name}-artifacts"
}

resource "aws_s3_bucket_public_access_block" "ml" {
  bucket                  = aws_s3_bucket.ml.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Versioning protects against a mistaken `dvc gc` or overwrite; old versions expire.
resource "aws_s3_bucket_versioning" "ml" {
  bucket = aws_s3_bucket.ml.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "ml" {
  bucket = aws_s3_bucket.ml.id
  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "ml" {
  bucket = aws_s3_bucket.ml.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# What CI may do: read and write the DVC and MLflow prefixes, list the bucket. Attach it to the CI
# identity whose keys become OBJECT_STORE_ACCESS_KEY_ID / OBJECT_STORE_SECRET_ACCESS_KEY.
data "aws_iam_policy_document" "ci" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.ml.arn]
  }
  statement {
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.ml.arn}/dvc/*", "${aws_s3_bucket.ml.arn}/mlflow/*"]
  }
}

resource "aws_iam_policy" "ci" {
  name   = "${var.name}-ci-object-store"
  policy = data.aws_iam_policy_document.ci.json
}
