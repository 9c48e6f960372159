// Package fgsm provides gradient-sign adversarial attacks on ONNX image
// classifiers and the audit that measures a model's robustness to them.
//
// Every attack works in pixel space: images are float32 NCHW in [0,1] and
// the perturbation budget ε is an L∞ radius in that space, whatever
// preprocessing (scale, mean, standard deviation) the model applies to its
// input. Gradients come from onnxguard's interpreter (runtime/interp) and are
// carried back through the preprocessing; the adversarial images are then
// classified by the engine the model is deployed on (ONNX Runtime), and the
// audit counts how often the two disagree.
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
package fgsm
