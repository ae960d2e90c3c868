"""Training: the random streams (streams), the compiled loop (loop), the VAE's step
(vae), a trainer for a Config (build), N seeds as one program (stack), several
devices (distribute), one whole run (run), seed sweeps (sweep), what the train
command asks for (launch), stop signals (signals) and the progress bar (progress)."""
