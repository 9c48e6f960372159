// Package arch provides the CNN architectures of the seed paper (arXiv
// 2502.05203, "Adversarial Machine Learning: Attacking and Safeguarding Image
// Datasets") as ONNX models with freshly initialised weights, so that a model
// can be trained from scratch, adversarially or not, without a framework.
//
// Build assembles the graph of a named architecture (Names lists them) for an
// input shape and a number of classes: paper-simple, two conv+ReLU+max-pool
// stages and two dense layers, for MNIST-like images; paper-complex, a deeper
// stack with dropout for CIFAR-10 or ImageNet-like images. Conv and dense
// weights are drawn He-normal (Kaiming, fan-in) from a PCG source seeded by
// Options.Seed, biases are zero, so the same options give the same bytes.
// The model uses only operators the interpreter runs and differentiates
// (Conv, Relu, MaxPool, Flatten, Gemm, Dropout), at opset 13 and IR version
// 8, with one input "input" [N, C, H, W] whose batch axis N is dynamic and
// one output "logits" [N, classes].
package arch
