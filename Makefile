# gan-tf: every target creates the virtualenv from requirements.txt if it is missing
# (with GPU=1 from requirements-gpu.txt: TensorFlow with its CUDA libraries).
#   make mnist-basic [ITERS=N] [ARGS="--resume"]   tutorial GAN, log-loss  -> outputs/mnist-basic/
#   make mnist-xent  [ITERS=N] [ARGS="--overwrite"] same, sigmoid x-entropy -> outputs/mnist-xent/
#   make mnist-deep  [ITERS=N] [ARGS=...]           the second tutorial's deeper MLP GAN
#   make mnist-dcgan [ITERS=N] [ARGS=...]           DCGAN (convolutions, batch norm)
#   make mnist-cgan  [ITERS=N] [ARGS=...]           conditional GAN, one row per digit
#   make mnist-cdcgan [ITERS=N] [ARGS=...]          the DCGAN, conditioned as the cGAN
#   make mnist-lsgan [ITERS=N] [ARGS=...]           the least-squares GAN on the tutorial's MLP
#   make mnist-pacgan2 [ITERS=N] [ARGS=...]         the tutorial's GAN with a packed D (PacGAN2)
#   make mnist-wgan  [ITERS=N] [ARGS=...]           the Wasserstein GAN (clipped critic) on the MLP
#   make mnist-wgan-dcgan [ITERS=N] [ARGS=...]      the clipped critic on the DCGAN's networks
#   make mnist-wgan-gp [ITERS=N] [ARGS=...]         WGAN-GP (gradient penalty) on the MLP
#   make mnist-wgan-gp-dcgan [ITERS=N] [ARGS=...]   WGAN-GP on the DCGAN's networks
#   make mnist-acgan [ITERS=N] [ARGS=...]           AC-GAN: the cGAN's MLP, D predicting the class
#   make mnist-infogan [ITERS=N] [ARGS=...]         InfoGAN: a 10-way and 2 continuous codes
#   make mnist-semi-supervised [ITERS=N] [ARGS=...] Salimans et al.'s K+1-class D from 100 labels
#   make mnist-srgan [ITERS=N] [ARGS=...]           SRGAN: 4x super-resolution of 7x7 digits (MSE + adversarial)
#   make mnist-srresnet [ITERS=N] [ARGS=...]        SRResNet: the same network on the pixel MSE alone
#   make mnist-cyclegan [ITERS=N] [ARGS=...]        CycleGAN: MNIST <-> MNIST rotated and inverted, unpaired
#   make info-codes [RUN=...]                       how often InfoGAN's code picks one digit
#   make wasserstein-curves [RUNS="..."]            the critic's estimate against sample quality
#   make semi-supervised-table RUNS="..."           Salimans et al.'s Table 1 from semi-supervised runs
#   make mnist-paper [ITERS=N] [ARGS=...]           the GAN paper's own MNIST model (maxout D, SGD)
#     any of them on Fashion-MNIST: ARGS="--dataset fashion_mnist"
#   make mnist-vae   [ITERS=N] [ARGS=...]           Kingma & Welling's VAE at the GAN's scale, z 100
#   make mnist-vae-z20 [ITERS=N] [ARGS=...]         the same VAE with the paper's small latent, z 20
#   make likelihood RUN=outputs/mnist-vae           a VAE's test ELBO and IW log p(x) (k = 1,000)
#   make gan-vs-vae                                 VAE vs GAN vs DCGAN: figures, blur, likelihoods
#     (needs the four runs trained, evaluated and the VAEs' likelihood; docs/gan-vs-vae.md)
#   make paper-study                                the paper's Table 1 against mnist-paper's seeds
#     (needs make mnist-paper ARGS="--seeds 3" and make evaluate RUN=outputs/mnist-paper-seeds;
#     docs/paper.md, docs/models/)
#   make dcgan-study                                the DCGAN's quality curves, generators, ablations
#     (needs make mnist-dcgan ARGS="--seeds 3" and make evaluate RUN=outputs/mnist-dcgan-seeds;
#     ABLATIONS="--ablation outputs/SWEEP ..."; docs/dcgan.md, docs/models/)
#   make evaluate RUN=outputs/mnist-basic           sample-quality metrics of a run
#   make latent RUN=outputs/mnist-basic             z interpolation and arithmetic of a run
#   make results                                    the docs' result tables from metrics.json
#   make saturating-vs-nonsaturating                G's loss saturates (outputs/NAME/)
#   make gaussian-1d | xy-game | mode-collapse      the toy experiments (outputs/NAME/)
#   make pacgan-table [ARGS="--epochs 20 --trials 5"]  the PacGAN paper's Table 1 protocol (docs/toys.md)
#   make stacked-mnist [ARGS="--iters 2000 --trials 1"]  its Table 2: DCGAN vs PacDCGAN2 (docs/toys.md)
#   make sweep EXP=mnist-basic [SEEDS=5]            seeds 0..4 of an experiment -> outputs/NAME-seeds/
#     (or any experiment with ARGS="--seeds 5"; evaluate RUN=outputs/NAME-seeds: mean ± std)
#   make bench                                      speed, side by side (outputs/bench/)
#   make bench-sweep                                8 seeds as one stack vs one after another
#   make bench-dcgan                                the DCGAN: float32, bfloat16, PyTorch, TF's tutorial
#   make profile-dcgan                              where the DCGAN's iteration goes, op by op
#   make classifier                                 retrain the committed MNIST classifier
#   make sample RUN=outputs/mnist-dcgan [ARGS=...]  64 samples of a run's G -> samples.png (gan-tf sample)
#   make test                                       the whole test suite (as CI runs it)
#   make test-fast                                  the tests not marked slow (about 12 min on 2 cores)
PYTHON_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ITERS ?=
ARGS ?=

# Development and CI checkouts find MNIST beside them; elsewhere the loader's own
# search order applies (see docs/data.md), ending with a one-time download of the original
# IDX files into ~/.cache/gan-tf/ (tensorflow-datasets only with GAN_TF_DATA_SOURCE=tfds).
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: mnist-basic mnist-xent mnist-deep mnist-dcgan mnist-cgan mnist-cdcgan mnist-lsgan mnist-pacgan2 mnist-wgan mnist-wgan-dcgan mnist-wgan-gp mnist-wgan-gp-dcgan mnist-acgan mnist-infogan mnist-semi-supervised mnist-srgan mnist-srresnet mnist-cyclegan mnist-paper mnist-vae mnist-vae-z20 likelihood gan-vs-vae paper-study dcgan-study saturating-vs-nonsaturating wasserstein-curves semi-supervised-table info-codes gaussian-1d xy-game mode-collapse pacgan-table stacked-mnist evaluate latent sample results bench bench-sweep bench-dcgan profile-dcgan sweep classifier test test-fast venv clean-venv

# GPU=1 on any target: the venv also gets TensorFlow's CUDA 12 libraries
# (requirements-gpu.txt, tensorflow[and-cuda]); its own stamp, so a later plain make
# does not reinstall and a GPU one does not skip the CUDA wheels.
GPU ?=
# ... and a run under GPU=1 refuses to start where TensorFlow sees no GPU, instead of
# training on the CPU without a word (gan_tf/training/devices.py).
export GAN_TF_REQUIRE_GPU := $(if $(GPU),1,)
REQUIREMENTS := $(if $(GPU),requirements-gpu.txt,requirements.txt)
STAMP := $(VENV)/.installed$(if $(GPU),-gpu)

venv: $(STAMP)

# The project itself goes in editable (pyproject.toml): the `gan-tf` command, and
# `import gan_tf` from any folder; its dependencies are the pinned ones above.
$(STAMP): $(REQUIREMENTS) requirements.txt requirements-test.txt pyproject.toml
	test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(REQUIREMENTS) -r requirements-test.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

mnist-basic mnist-xent mnist-deep mnist-dcgan mnist-cgan mnist-cdcgan mnist-lsgan mnist-pacgan2 mnist-wgan mnist-wgan-dcgan mnist-wgan-gp mnist-wgan-gp-dcgan mnist-acgan mnist-infogan mnist-semi-supervised mnist-srgan mnist-srresnet mnist-cyclegan mnist-paper mnist-vae mnist-vae-z20: venv
	$(PY) -m gan_tf.train --experiment $@ $(if $(ITERS),--iters $(ITERS)) $(ARGS)

info-codes: venv
	$(PY) -m gan_tf.info_codes $(RUN) $(ARGS)

wasserstein-curves: venv
	$(PY) -m gan_tf.wasserstein_curves $(RUNS) $(ARGS)

semi-supervised-table: venv
	$(PY) -m gan_tf.semi_supervised_table $(RUNS) $(ARGS)

saturating-vs-nonsaturating: venv
	$(PY) -m gan_tf.saturation $(ARGS)

gaussian-1d: venv
	$(PY) -m gan_tf.toys.gaussian1d $(ARGS)

xy-game: venv
	$(PY) -m gan_tf.toys.xy_game $(ARGS)

mode-collapse: venv
	$(PY) -m gan_tf.toys.mode_collapse $(ARGS)

pacgan-table: venv
	$(PY) -m gan_tf.toys.pacgan_table $(ARGS)

stacked-mnist: venv
	$(PY) -m gan_tf.stacked_mnist $(ARGS)

evaluate: venv
	@test -n "$(RUN)" || { echo "usage: make evaluate RUN=outputs/NAME"; exit 2; }
	$(PY) -m gan_tf.evaluate $(RUN)

sample: venv
	@test -n "$(RUN)" || { echo "usage: make sample RUN=outputs/NAME [ARGS=\"--out x.npz\"]"; exit 2; }
	$(PY) -m gan_tf.sample $(RUN) $(or $(ARGS),--out $(RUN)/samples.png)

latent: venv
	@test -n "$(RUN)" || { echo "usage: make latent RUN=outputs/NAME"; exit 2; }
	$(PY) -m gan_tf.latent $(RUN)

likelihood: venv
	@test -n "$(RUN)" || { echo "usage: make likelihood RUN=outputs/NAME"; exit 2; }
	$(PY) -m gan_tf.vae_likelihood $(RUN)

gan-vs-vae: venv
	$(PY) -m gan_tf.gan_vs_vae --docs docs $(ARGS)

paper-study: venv
	$(PY) -m gan_tf.paper --docs docs $(ARGS)

ABLATIONS ?=
dcgan-study: venv
	$(PY) -m gan_tf.dcgan --docs docs $(ABLATIONS) $(ARGS)

results: venv
	$(PY) -m gan_tf.results

bench: venv
	$(PY) -m gan_tf.bench $(ARGS)

bench-sweep: venv
	$(PY) -m gan_tf.bench --seeds 8 --repeats 2 --iters 3000 $(ARGS)

# PyTorch's rows need torch in the venv: .venv/bin/pip install torch==2.13.0 (CPU build)
bench-dcgan: venv
	$(PY) -m gan_tf.bench --dcgan --repeats 3 --iters 6000 $(ARGS)

profile-dcgan: venv
	$(PY) -m gan_tf.bench --profile --iters 5000 $(ARGS)

sweep: venv
	@test -n "$(EXP)" || { echo "usage: make sweep EXP=mnist-basic [SEEDS=5] [ARGS=...]"; exit 2; }
	$(PY) -m gan_tf.train --experiment $(EXP) --seeds $(or $(SEEDS),5) $(if $(ITERS),--iters $(ITERS)) $(ARGS)

classifier: venv
	$(PY) -m gan_tf.classifier --overwrite

test: venv
	$(PY) -m pytest -q -rs tests

test-fast: venv
	$(PY) -m pytest -q -rs -m "not slow" tests

clean-venv:
	rm -rf $(VENV)
