package dataset

import (
	"fmt"
	"os"
)

// npySource serves images held in memory, read whole from a .npy file.
type npySource struct {
	frame
	x      []float32 // the window's samples, NCHW
	labels []int     // the window's labels, or nil
}

// npyArray is a .npy file's header and its data, checked to be complete.
type npyArray struct {
	path  string
	shape []int
	dtype npyDtype
	data  []byte // exactly the shape's elements
}

func readNPY(path string) (*npyArray, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	a, err := parseNPY(data)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	a.path = path
	return a, nil
}

// openNPY reads images of shape N×C×H×W, N×H×W×C or N×H×W, float32 in
// [0,1] or uint8, and labels from opt.Labels if given.
func openNPY(path string, opt *Options) (Source, error) {
	a, err := readNPY(path)
	if err != nil {
		return nil, err
	}
	if c := a.dtype.code; c != "u1" && c != "f4" {
		return nil, fmt.Errorf("dataset: %s: dtype %s (%s) is not supported for images; want float32 pixels in [0,1] or uint8 pixels 0-255", path, a.dtype.name, a.dtype.descr)
	}
	n, c, h, w, nhwc, err := imageLayout(a.shape)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	s := &npySource{}
	s.c, s.h, s.w = c, h, w
	s.span = newSpan(n, opt)
	chw := c * h * w
	lo, hi := s.span.lo*chw, s.span.hi*chw
	var flat []float32 // the window, in the file's layout
	switch a.dtype.code {
	case "u1":
		flat = make([]float32, hi-lo)
		for i, b := range a.data[lo:hi] {
			flat[i] = pixel[b]
		}
	case "f4":
		flat = a.float32s(lo, hi)
		for i, p := range flat {
			if !(p >= 0 && p <= 1) {
				return nil, fmt.Errorf("dataset: %s: pixel %d (sample %d) is %v, %w; store pixels in [0,1] (or as uint8 0-255), and describe the model's own input scaling as its preprocessing (Preprocess) instead of baking it into the data",
					path, lo+i, (lo+i)/chw, p, ErrPixelRange)
			}
		}
	}
	if nhwc {
		s.x = make([]float32, len(flat))
		toNCHW(s.x, flat, c, h*w)
	} else {
		s.x = flat
	}
	if opt.Labels != "" {
		labels, err := readNPYLabels(opt.Labels, n)
		if err != nil {
			return nil, err
		}
		s.labels, s.labelled = labels[s.span.lo:s.span.hi], true
	}
	return s, nil
}

// imageLayout interprets an image array's shape: N×H×W has one channel;
// a 4-D shape is N×H×W×C when its last dimension is 1 or 3 and its second
// is not, and N×C×H×W otherwise.
func imageLayout(shape []int) (n, c, h, w int, nhwc bool, err error) {
	switch len(shape) {
	case 3:
		n, c, h, w = shape[0], 1, shape[1], shape[2]
	case 4:
		last, second := shape[3], shape[1]
		if nhwc = channelsLast(int64(second), int64(last)); nhwc {
			n, h, w, c = shape[0], shape[1], shape[2], shape[3]
		} else {
			n, c, h, w = shape[0], shape[1], shape[2], shape[3]
		}
	default:
		return 0, 0, 0, 0, false, fmt.Errorf("image array has shape %v; want N×H×W, N×C×H×W or N×H×W×C", shape)
	}
	if c < 1 || h < 1 || w < 1 {
		return 0, 0, 0, 0, false, fmt.Errorf("image array has shape %v; every sample dimension must be at least 1", shape)
	}
	return n, c, h, w, nhwc, nil
}

// toNCHW transposes samples of hw pixels by c channels into c planes.
func toNCHW(dst, src []float32, c, hw int) {
	fromChannelsLast(dst, src, c, hw, func(int) (a, b float32) { return 1, 0 })
}

// readNPYLabels reads n labels, int64, int32 or uint8, of shape N or N×1.
func readNPYLabels(path string, n int) ([]int, error) {
	a, err := readNPY(path)
	if err != nil {
		return nil, err
	}
	if !(len(a.shape) == 1 || len(a.shape) == 2 && a.shape[1] == 1) {
		return nil, fmt.Errorf("dataset: %s: labels have shape %v; want (N,) or (N, 1)", path, a.shape)
	}
	if a.shape[0] != n {
		return nil, fmt.Errorf("dataset: %s has %d labels but the images hold %d samples; pass the matching labels file", path, a.shape[0], n)
	}
	if c := a.dtype.code; c != "i8" && c != "i4" && c != "u1" {
		return nil, fmt.Errorf("dataset: %s: label dtype %s (%s) is not supported; want int64, int32 or uint8", path, a.dtype.name, a.dtype.descr)
	}
	labels := a.ints()
	for i, l := range labels {
		if l < 0 {
			return nil, fmt.Errorf("dataset: %s: label %d is %d; want class indices from 0", path, i, l)
		}
	}
	return labels, nil
}

func (s *npySource) Next(dst *Batch, max int) error {
	first, n, err := s.begin(dst, max)
	if err != nil {
		return err
	}
	chw := s.c * s.h * s.w
	off := first - s.span.lo
	copy(dst.X, s.x[off*chw:(off+n)*chw])
	if s.labelled {
		copy(dst.Labels, s.labels[off:off+n])
	}
	return nil
}

func (s *npySource) Close() error {
	s.closed = true
	s.x, s.labels = nil, nil
	return nil
}
