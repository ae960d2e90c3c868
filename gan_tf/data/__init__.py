"""The datasets: MNIST and Fashion-MNIST found locally, checked against their
SHA-256 sums and split as the tutorials split them (datasets), or downloaded once
into the per-user cache, all or nothing (download)."""
