"""The GAN paper's own MNIST model (Goodfellow et al. 2014, Table 1: Parzen 225 ± 2),
configured from its authors' code, github.com/goodfeli/adversarial: `mnist.yaml`
(the model and the training algorithm), `__init__.py` (Generator, AdversaryCost2)
and `parzen_ll.py` (the estimate). Each choice and the line it follows:

Data
  split 'paper'       mnist.yaml `dataset: MNIST(which_set: 'train', start: 0, stop:
                      50000)`; validation `start: 50000, stop: 60000`
                      (monitoring_dataset 'valid'; parzen_ll.py get_valid). pylearn2's
                      MNIST gives pixels / 255 in [0, 1], G's sigmoid range.
  batch_size 100      `batch_size: 100`; an epoch is exactly 500 updates. pylearn2's
                      SGD visits the data 'shuffled_sequential' (its default
                      train_iteration_mode): a new order each epoch, as here.
Generator (`generator: !obj:adversarial.Generator`, its `mlp`)
  g_hidden 1200,1200  `RectifiedLinear h0 dim 1200`, `h1 dim 1200`: ReLU
  g_output sigmoid    `Sigmoid y dim 784`, its `init_bias:
                      init_sigmoid_bias_from_marginals {dataset: *train}`: the logit
                      of each pixel's training mean (build.py does this for init
                      'uniform')
  init 'uniform'      `irange: .05` in every G layer, `irange: .005` in every D layer:
                      U(-r, r) weights, zero biases (pylearn2's default init_bias)
  z_dim 100           `nvis: 100`
  noise 'uniform_sqrt3'  mnist.yaml `noise: 'uniform'`, which Generator.get_noise
                      draws as `theano_rng.uniform(low=-np.sqrt(3), high=np.sqrt(3))`:
                      unit variance. That is the file as the paper's hyperparameters
                      were copied in (600ee5c, "Copy the code and hyperparameters from
                      galatea") and as it stands (f77a509, "uniform noise turned out to
                      be ok"); the one commit between (068bb03) dropped the line, and
                      so Generator's default, "gaussian": `--noise gaussian` is that
                      variant, measured in docs/paper.md.
Discriminator (`discriminator: MLP`)
  family 'maxout'   `Maxout h0 num_units 240 num_pieces 5`, `h1` the same, `Sigmoid y
  d_hidden 240,240    dim 1`: the output's logit goes to the loss
  maxout_pieces 5
  d_keep 0.8,0.5,0.5  AdversaryCost2 `discriminator_input_include_probs {'h0': .8}`,
                      `discriminator_default_input_include_prob: .5`; scales `{'h0':
                      1.25}` and default `2.`: 1/keep each. Dropout in D's training
                      passes only (dropout_fprop); samples come from G alone.
The game (AdversaryCost2.get_samples_and_objectives and get_gradients)
  update 'simultaneous'  one pass: S = G(z), y_hat1 = D(X), y_hat0 = D(S), each
                      `d.dropout_fprop` with its own masks; d_grads = T.grad(d_obj,
                      d_params) and g_grads = T.grad(g_obj, g_params) are returned
                      together and applied in the same SGD update (no alternate_g).
  loss 'xent'         `d.layers[-1].cost(y, y_hat)`: pylearn2's Sigmoid cost is the
                      mean KL for binary targets, p softplus(-z) + (1-p) softplus(z),
                      from the logit z: sigmoid cross-entropy on logits
  d_loss_scale 0.5    `d_obj = 0.5 * (cost(y1, y_hat1) + cost(y0, y_hat0))`
  g_loss 'nonsaturating'  `g_obj = d.layers[-1].cost(y1, y_hat0)`: -log D(G(z)),
                      on the same dropped-out pass (`no_drop_in_d_for_g` False);
                      `scale_grads: 0`, `blend_obj` False: nothing else enters
Training algorithm (`algorithm: SGD`)
  optimizer sgd, lr 0.1     `learning_rate: .1`
  momentum 0.5              `learning_rule: Momentum {init_momentum: .5}`
  momentum_final 0.7, momentum_saturate 250
                            `MomentumAdjustor {start: 1, saturate: 250,
                            final_momentum: .7}` (models/schedules.py)
  lr_decay 1.000004, lr_min 1e-6
                            `update_callbacks: ExponentialDecay {decay_factor:
                            1.000004, min_lr: .000001}`, after every update
Length
  mnist.yaml has no termination criterion (it is commented out), so the authors'
  run went on until stopped, and the paper does not say when; `iters` here is
  what the quick Parzen curve (parzen_every, stats.jsonl and parzen.png) supports
  on this CPU's budget: see docs/paper.md.

Deviations forced by TF2 / Keras 3, none of them changing the algorithm: z is drawn
as U(-1, 1) and scaled by sqrt(3) in G's first layer (for --noise gaussian: mapped
to N(0, 1) by sqrt(2) erfinv, clipped at 4.75 sigma), so saved generators take the
same noise as every other gan-tf model; the random streams are TensorFlow's
stateless ThreeFry, not Theano's MRG; float32 on a CPU, not a GTX 580 (the authors'
README: other hardware sums in other orders, "you should expect to need to re-tune
your hyperparameters slight[ly]").
"""

from gan_tf.core.config import Config
from gan_tf.families import maxout

ITERS_PER_EPOCH = 500    # 50,000 images / batch 100


def get_config() -> Config:
    return Config.of(
        split="paper", batch_size=100, z_dim=100, noise="uniform_sqrt3",
        g_output="sigmoid", init="uniform",
        family="maxout", params=maxout.Params(d_hidden=(240, 240), g_hidden=(1200, 1200),
                                              maxout_pieces=5, d_keep=(0.8, 0.5, 0.5)),
        update="simultaneous", loss="xent", d_loss_scale=0.5,
        optimizer="sgd", lr=0.1, momentum=0.5, momentum_final=0.7, momentum_saturate=250,
        lr_decay=1.000004, lr_min=1e-6,
        iters=60 * ITERS_PER_EPOCH, snapshot_every=ITERS_PER_EPOCH, log_every=100,
        parzen_every=5 * ITERS_PER_EPOCH)
