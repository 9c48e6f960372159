package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Batch is a run of consecutive samples.
type Batch struct {
	X       []float32 // N*C*H*W pixels in [0,1], NCHW
	Labels  []int     // len N, or nil when the source has no labels
	N       int
	C, H, W int
	Start   int // index of the first sample in the underlying data, before shard and limit
}

// Source is a data set read in batches.
type Source interface {
	// Dims returns the channels, height and width of every sample.
	Dims() (c, h, w int)
	// Len returns the number of samples Next serves in all, after
	// Options.Shard and Options.Limit.
	Len() int
	// Labelled reports whether batches carry labels.
	Labelled() bool
	// Next fills dst with up to max samples, reusing dst's slices when
	// they are large enough, and returns io.EOF when none are left.
	// After any other error the Source should be closed.
	Next(dst *Batch, max int) error
	// Close releases the files held open.
	Close() error
}

// ClassNamer is implemented by sources that know their class names: image
// folders (the folder names) and CIFAR-10 folders with batches.meta.txt.
// Classes()[label] names label; it is nil when the names are unknown.
type ClassNamer interface {
	Classes() []string
}

// ErrNoLabels is wrapped by the errors of callers that need the class of
// every sample and got data without labels.
var ErrNoLabels = errors.New("the data has no labels")

// ErrPixelRange is wrapped by the error of a float pixel outside [0,1].
var ErrPixelRange = errors.New("outside [0,1]")

// ErrLabelsUnused is returned by Open when a separate labels file is given
// for a format that carries its own labels.
var ErrLabelsUnused = errors.New("a separate labels file applies to IDX and .npy images only; this format carries its own labels")

// Options adjust how Open reads a data set. A nil *Options means the
// zero value: all samples, labels found next to the images where the format
// allows, image folders read as RGB at the size of their first image.
type Options struct {
	// Labels is the labels file for IDX and .npy images. For IDX, when
	// empty, the labels are looked for in the sibling file whose name
	// replaces "images-idx3" by "labels-idx1"; when there is none, the
	// source is unlabelled. It is an error for other formats.
	Labels string
	// Height and Width are the sample size an image folder is brought to:
	// each image is scaled so that it covers Height×Width (for a square
	// target: its shorter side becomes the target) and then centre-cropped.
	// When both are 0 the first image's size is used; when one is 0 it
	// takes the other's value. Other formats ignore them.
	Height, Width int
	// Channels is 1 (grey) or 3 (RGB) for image folders; 0 means 3.
	// Other formats ignore it.
	Channels int
	// Limit caps the number of samples; 0 means all.
	Limit int
	// Shard and Shards select the Shard-th (0-based) of Shards contiguous
	// slices of nearly equal size; Shards 0 means the whole data set. The
	// shard is taken first, then Limit applies within it.
	Shard, Shards int
}

func (o *Options) validate() error {
	switch {
	case o.Limit < 0:
		return fmt.Errorf("dataset: Limit is %d; want 0 (all samples) or more", o.Limit)
	case o.Shards < 0:
		return fmt.Errorf("dataset: Shards is %d; want 0 (no sharding) or more", o.Shards)
	case o.Shards == 0 && o.Shard != 0:
		return fmt.Errorf("dataset: Shard is %d but Shards is 0; set Shards to the number of shards", o.Shard)
	case o.Shards > 0 && (o.Shard < 0 || o.Shard >= o.Shards):
		return fmt.Errorf("dataset: Shard is %d; want 0 to %d for %d shards", o.Shard, o.Shards-1, o.Shards)
	case o.Height < 0 || o.Width < 0:
		return fmt.Errorf("dataset: image size %dx%d (H×W); want positive sizes, or 0 to use the first image's", o.Height, o.Width)
	case o.Channels != 0 && o.Channels != 1 && o.Channels != 3:
		return fmt.Errorf("dataset: Channels is %d; want 1 (grey) or 3 (RGB)", o.Channels)
	}
	return nil
}

// Open returns the Source for the data set at path, choosing the reader
// from the path: a folder holding data_batch_*.bin (all of them, in numeric
// order) or else test_batch.bin is read as CIFAR-10, any other folder as one
// subfolder of images per class; a file named *.npy as NumPy, *idx*ubyte
// (optionally .gz) as IDX, and *.bin as a CIFAR-10 batch.
func Open(path string, opt *Options) (Source, error) {
	if opt == nil {
		opt = &Options{}
	}
	if err := opt.validate(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	name := strings.ToLower(filepath.Base(path))
	isIDX := strings.Contains(name, "idx") && (strings.HasSuffix(name, "ubyte") || strings.HasSuffix(name, "ubyte.gz"))
	if opt.Labels != "" && (fi.IsDir() || !(isIDX || strings.HasSuffix(name, ".npy"))) {
		return nil, fmt.Errorf("dataset: %s: %w", path, ErrLabelsUnused)
	}
	switch {
	case fi.IsDir():
		files, err := cifarFiles(path)
		if err != nil {
			return nil, err
		}
		if files != nil {
			return openCIFAR(files, opt)
		}
		return openFolder(path, opt)
	case strings.HasSuffix(name, ".npy"):
		return openNPY(path, opt)
	case isIDX:
		return openIDX(path, opt)
	case strings.HasSuffix(name, ".bin"):
		return openCIFAR([]string{path}, opt)
	}
	return nil, fmt.Errorf("dataset: %s: unknown format; want a folder of class folders, a folder of CIFAR-10 .bin batches, a CIFAR-10 .bin file, an IDX file (*-idx3-ubyte[.gz]) or a NumPy .npy file", path)
}

// span is the window of the underlying samples a Source serves, [lo, hi),
// and next, the first not yet served.
type span struct{ lo, hi, next int }

func newSpan(total int, opt *Options) span {
	lo, hi := 0, total
	if opt.Shards > 0 {
		lo = opt.Shard * total / opt.Shards
		hi = (opt.Shard + 1) * total / opt.Shards
	}
	if opt.Limit > 0 && hi-lo > opt.Limit {
		hi = lo + opt.Limit
	}
	return span{lo: lo, hi: hi, next: lo}
}

func (s *span) len() int { return s.hi - s.lo }

// take reserves the next run of at most max samples, returning the index of
// its first sample and its length, or io.EOF when the window is exhausted.
func (s *span) take(max int) (first, n int, err error) {
	if max < 1 {
		return 0, 0, fmt.Errorf("dataset: batch size %d; want at least 1", max)
	}
	if s.next >= s.hi {
		return 0, 0, io.EOF
	}
	first, n = s.next, min(max, s.hi-s.next)
	s.next += n
	return first, n, nil
}

// frame holds what every reader shares: sample dimensions, whether there
// are labels, the window served, and whether Close was called. Readers embed
// it for Dims, Len and Labelled.
type frame struct {
	c, h, w  int
	labelled bool
	span     span
	closed   bool
}

func (f *frame) Dims() (c, h, w int) { return f.c, f.h, f.w }
func (f *frame) Len() int            { return f.span.len() }
func (f *frame) Labelled() bool      { return f.labelled }

// begin reserves the next run of at most max samples and shapes dst for
// it; at the end of the data it empties dst and returns io.EOF.
func (f *frame) begin(dst *Batch, max int) (first, n int, err error) {
	if f.closed {
		return 0, 0, errClosed
	}
	first, n, err = f.span.take(max)
	if err == io.EOF {
		dst.shape(0, f.c, f.h, f.w, f.span.hi, f.labelled)
	}
	if err != nil {
		return 0, 0, err
	}
	dst.shape(n, f.c, f.h, f.w, first, f.labelled)
	return first, n, nil
}

// shape sets b to n samples of c×h×w starting at start, reusing b's slices
// when they are large enough.
func (b *Batch) shape(n, c, h, w, start int, labelled bool) {
	b.N, b.C, b.H, b.W, b.Start = n, c, h, w, start
	b.X = grow(b.X, n*c*h*w)
	if labelled {
		b.Labels = grow(b.Labels, n)
	} else {
		b.Labels = nil
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// pixel maps a byte to [0,1].
var pixel = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

var errClosed = errors.New("dataset: Next on a closed Source")
