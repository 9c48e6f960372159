// Package fgsm provides adversarial attacks on ONNX image classifiers, from
// FGSM to AutoAttack, and the audit that measures a model's robustness to
// them.
//
// Every attack works in pixel space: images are float32 NCHW in [0,1] and
// the perturbation budget ε is an L∞ (or, for AutoAttack, L2) radius in
// that space, whatever preprocessing (scale, mean, standard deviation) the
// model applies to its input. Gradients come from the model's Gradients
// (onnxguard's interpreter, runtime/interp, or any engine that gives logits
// and loss gradients for a batch) and are carried back through the
// preprocessing; the adversarial images are then classified by the engine
// the model is deployed on (ONNX Runtime, Attacker.Check). Each pass runs
// once: the gradient passes give the logits the attack needs (at the clean
// images, the first step's), and the deployed engine's scores choose among
// restarts, so the interpreter runs no forward pass of its own. The audit
// counts how often the two disagree on the clean images, and on the
// adversarial ones when asked to cross-check (AuditOptions.CrossCheck).
//
// The attacks:
//
//   - FGSM, as the seed paper (arXiv 2502.05203) defines it:
//     x' = clip(x + ε·sign(∇ₓ J(θ, x, y)), 0, 1);
//   - BIM: FGSM repeated with step α, projected back into the ε-ball;
//   - PGD: BIM from an optional uniform random start in the ε-ball, with
//     restarts that keep the worst case for each sample;
//   - MI-FGSM: BIM on a momentum of L1-normalised gradients.
//
// Each has a targeted form that descends the loss of a target class instead
// of ascending the loss of the true one. Randomness (PGD's start) is drawn
// per sample from the seed and the sample's index in the data, so a run
// split into shards gives the same images as one run.
//
// AutoAttack (Croce & Hein, ICML 2020), the field's standard evaluation, is
// an ensemble of stages (StageFunc, registered by name), in L∞ or L2:
//
//   - APGD-CE and APGD-DLR: Auto-PGD on cross-entropy or on the Difference
//     of Logits Ratio, −(z_y − max_{i≠y} z_i)/(z_π1 − z_π3), untargeted:
//     100 iterations, momentum 0.75, a step that starts at 2ε and halves
//     at checkpoints when the loss stops rising, restarting from the best
//     point;
//   - APGD-T: APGD on the targeted DLR loss toward each of the 9 classes
//     the clean image scores highest after its label;
//   - FAB-T, the targeted minimum-norm attack, which also measures each
//     sample's smallest adversarial perturbation, and Square, the
//     score-based black-box attack, which needs only the deployed model's
//     outputs (their own files).
//
// An Ensemble ("autoattack": APGD-CE, APGD-T, FAB-T, Square; "autoattack-plus";
// "autoattack-rand"; or one stage alone) runs each stage only on the samples
// the stages before it left robust, re-checks every example on the deployed
// model and within the budget, and keeps per sample the worst case and the
// stage that broke it. Audit runs attacks and ensembles batch by batch; each
// batch's report can be saved and reused to resume an interrupted audit.
package fgsm
