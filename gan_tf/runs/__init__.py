"""Everything on disk: the run folder and what it holds (folder), a seed sweep's
folder (sweeps), what a training run writes and when (writer), atomic writes and
folder locks (files), and pictures made from arrays (pictures)."""
