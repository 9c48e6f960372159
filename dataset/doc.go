// Package dataset provides readers that stream labelled image data sets as
// batches of float32 pixels in [0,1], laid out NCHW, ready for a classifier.
//
// Open looks at a path and picks the reader: a folder of class folders of
// PNG and JPEG images, a folder of CIFAR-10 binary batches or one such .bin
// file, an IDX file as MNIST and Fashion-MNIST ship it (gzipped or not), or a
// NumPy .npy array with its labels in a second .npy. Every reader is a
// Source: it reports the sample dimensions and count, and Next fills a
// caller-owned Batch, reusing its slices, until io.EOF. IDX, CIFAR and image
// folders are read as batches are asked for, so a data set never has to fit
// in memory; .npy files are read whole. Options select a contiguous shard of
// the samples and cap their number, so that several processes can split a
// data set without overlap.
//
// Data stay in pixel space, NCHW. Preprocess is the layer between pixels
// and what a model takes as input (scale, then per-channel mean and
// standard deviation, then, for a channels-last model, the transposition
// to N×H×W×C that its Layout says), with the backward step that carries a
// gradient with respect to the model input back to the pixels.
// DetectLayout reads the layout off a model's declared input; CheckShape
// compares a Source with that input before any data flows.
package dataset
