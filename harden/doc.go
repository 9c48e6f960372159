// Package harden provides adversarial training: it fine-tunes an ONNX image
// classifier, through onnxguard's differentiable interpreter, so that it
// resists FGSM-family attacks, and returns weights ready to be written back
// into the same ONNX graph.
//
// Train takes a Trainable (a compiled interp.Program; the attacks'
// fgsm.Gradients with weights to update), the model's preprocessing, the
// training data held in memory (Data, read with ReadAll) and a Config. Each
// epoch visits the data in an order drawn from (seed, epoch) and, per
// mini-batch, crafts adversarial examples from the current weights with
// the model in inference mode (package fgsm, pixel space), then takes one
// optimizer step on them in training mode. The recipes:
//
//   - paper: the seed paper's (arXiv 2502.05203) Algorithm 2: FGSM at ε,
//     training on the clean batch and its adversarial copy together (2B
//     samples, labels duplicated); where the model's mode does not matter
//     (no Dropout, no training-mode BatchNorm) the clean half's gradient
//     is taken from the FGSM pass, run in inference mode;
//   - fgsm-rs: fast adversarial training (Wong, Rice & Kolter 2020): FGSM
//     from a uniform random start in the ε-ball with step 1.25·ε,
//     projected, training on the adversarial batch only; after every epoch
//     a PGD probe on validation data watches for catastrophic overfitting
//     and, when robust accuracy collapses, the run stops and restores the
//     best epoch;
//   - pgd: Madry et al. 2018: K-step PGD (random start, α = 2.5·ε/K);
//   - trades: Zhang et al. 2019: the mean of CE(f(x), y) + β·KL(p(x) ‖
//     p(x_adv)) (TRADESLoss, β 6), x_adv maximising the KL with p(x)
//     fixed in K = 10 steps of ε/4 from x + 0.001·N(0,1); one training
//     pass over [x; x_adv] carries the gradient through both halves;
//   - mart: Wang et al. 2020: boosted CE on x_adv plus β·KL(p(x) ‖
//     p(x_adv))·(1 − p_y(x)) (MARTLoss, β 6), x_adv from K-step PGD on the
//     cross-entropy, as trades;
//   - clean: plain training, which also trains a model from scratch.
//
// Config.AWP adds adversarial weight perturbation (Wu et al. 2020) to pgd
// or trades: each step's gradient is taken at weights pushed up the loss
// by γ·‖w_l‖ per weight tensor (γ 0.01 on pgd, 0.005 on trades), after
// AWPWarmup epochs without it.
//
// The optimizers are AdamW (Adam with decoupled weight decay) and SGD with
// momentum and L2 weight decay; the learning rate follows a constant, step
// or cosine schedule over the epochs. Only weights with a gradient are
// updated; BatchNorm's running statistics follow the batch statistics
// (BN "train") or stay as exported (BN "frozen", Dropout still active).
//
// After every epoch the model is validated (clean and FGSM accuracy, and
// for the adversarial recipes a robustness probe's, in inference mode: by
// default APGD-CE then APGD-T, a fast AutoAttack subset, on up to 512
// samples; or K-step PGD) and the best epoch's weights are kept, the
// adversarial recipes' by the probe; Config.Patience stops a run whose
// probe accuracy stays below the best for that many epochs (robust
// overfitting). With a checkpoint
// folder, a Checkpoint (encoding/gob) and a History (JSON) are written
// atomically, and Resume continues an interrupted run to the same weights
// bit for bit. A loss or weight that becomes NaN or infinite stops the run
// with ErrDiverged. Randomness (order, Dropout masks, random starts) is
// drawn from the seed and the position in the run, never from a generator
// carried across steps, which is what makes resuming exact.
//
// Run is a whole hardening, what the CLI's harden command does in one call:
// it measures the model on the validation data (clean, FGSM, 10-step PGD and
// the AutoAttack ensembles of RunConfig, classified by ONNX Runtime), trains
// (or resumes), writes the best epoch into the ONNX file with its provenance
// (Provenance) through package export, checks the file on ONNX Runtime
// against the interpreter, and measures the file again. Its Report holds the
// training's Result, both measurements and the export check; progress and
// the end of training reach the caller through RunConfig's callbacks.
package harden
