package dataset

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// npyImages returns n generated samples of c×h×w as bytes in the given
// layout ("NCHW" or "NHWC").
func npyImages(n, c, h, w int, layout string) []byte {
	var b []byte
	for i := range n {
		planes := samplePlanes(i, c, h, w)
		if layout == "NCHW" {
			b = append(b, planes...)
			continue
		}
		for p := range h * w {
			for ch := range c {
				b = append(b, planes[ch*h*w+p])
			}
		}
	}
	return b
}

func asFloat32(b []byte) []byte {
	v := make([]float32, len(b))
	for i, x := range b {
		v[i] = float32(x) / 255
	}
	return float32Bytes(v)
}

// npyLabels returns labels i%10 for n samples in the given dtype.
func npyLabels(n int, descr string) []byte {
	var b []byte
	for i := range n {
		switch descr {
		case "<i8":
			b = binary.LittleEndian.AppendUint64(b, uint64(i%10))
		case "<i4":
			b = binary.LittleEndian.AppendUint32(b, uint32(i%10))
		default:
			b = append(b, byte(i%10))
		}
	}
	return b
}

func TestNPY(t *testing.T) {
	const n = 7
	for _, test := range []struct {
		name       string
		descr      string
		shape      []int
		layout     string
		c, h, w    int
		labelDescr string // "" for no labels
	}{
		{"NCHW float32", "<f4", []int{n, 3, 4, 5}, "NCHW", 3, 4, 5, "<i8"},
		{"NHWC float32", "<f4", []int{n, 4, 5, 3}, "NHWC", 3, 4, 5, "<i4"},
		{"NHWC uint8 grey", "|u1", []int{n, 4, 5, 1}, "NHWC", 1, 4, 5, "|u1"},
		{"NCHW grey", "|u1", []int{n, 1, 4, 5}, "NCHW", 1, 4, 5, "<i8"},
		{"N×H×W", "|u1", []int{n, 4, 5}, "NCHW", 1, 4, 5, ""},
		{"3 channels both ways read as NCHW", "<f4", []int{n, 3, 4, 3}, "NCHW", 3, 4, 3, "<i8"},
		{"4 channels", "|u1", []int{n, 4, 2, 2}, "NCHW", 4, 2, 2, "<i8"},
	} {
		t.Run(test.name, func(t *testing.T) {
			dir := t.TempDir()
			data := npyImages(n, test.c, test.h, test.w, test.layout)
			if test.descr == "<f4" {
				data = asFloat32(data)
			}
			path := writeFile(t, filepath.Join(dir, "x.npy"), npyBytes(test.descr, test.shape, data))
			var label func(int) int
			labels := ""
			if test.labelDescr != "" {
				label = mod10
				labels = writeFile(t, filepath.Join(dir, "y.npy"), npyBytes(test.labelDescr, []int{n}, npyLabels(n, test.labelDescr)))
			}
			checkSource(t, func(opt *Options) (Source, error) {
				if opt == nil {
					opt = &Options{}
				}
				opt.Labels = labels
				return Open(path, opt)
			}, n, test.c, test.h, test.w, label)
		})
	}
}

func TestNPYErrors(t *testing.T) {
	const n = 3
	good := npyBytes("<f4", []int{n, 1, 2, 2}, asFloat32(npyImages(n, 1, 2, 2, "NCHW")))
	goodLabels := npyBytes("<i8", []int{n}, npyLabels(n, "<i8"))
	outside := make([]float32, n*4)
	outside[5] = 1.5
	nan := make([]float32, n*4)
	nan[0] = float32(math.NaN())
	for _, test := range []struct {
		name           string
		images, labels []byte
		says           []string
	}{
		{"above 1", npyBytes("<f4", []int{n, 1, 2, 2}, float32Bytes(outside)), nil,
			[]string{"pixel 5 (sample 1) is 1.5", "outside [0,1]", "as its preprocessing"}},
		{"NaN", npyBytes("<f4", []int{n, 1, 2, 2}, float32Bytes(nan)), nil, []string{"NaN", "outside [0,1]"}},
		{"2-D", npyBytes("<f4", []int{n, 4}, float32Bytes(outside)), nil, []string{"shape [3 4]", "want N×H×W, N×C×H×W or N×H×W×C"}},
		{"zero width", npyBytes("|u1", []int{n, 2, 0}, nil), nil, []string{"at least 1"}},
		{"float64", npyBytes("<f8", []int{n, 2, 2}, make([]byte, 8*n*4)), nil, []string{"float64", "want float32", "uint8"}},
		{"truncated", good[:len(good)-3], nil, []string{"truncated", "needs 48 data bytes", "holds 45"}},
		{"not npy", []byte("PK\x03\x04 this is a zip"), nil, []string{"not a NumPy .npy file"}},
		{"fortran", []byte(strings.Replace(strings.Replace(string(good), "False", "True", 1), "}", "} ", 1)), nil, []string{"Fortran order", "ascontiguousarray"}},
		{"label count", good, npyBytes("<i8", []int{n + 1}, npyLabels(n+1, "<i8")), []string{"y.npy has 4 labels", "hold 3 samples"}},
		{"label shape", good, npyBytes("<i8", []int{1, n}, npyLabels(n, "<i8")), []string{"labels have shape [1 3]", "want (N,)"}},
		{"label dtype", good, npyBytes("<f4", []int{n}, float32Bytes(make([]float32, n))), []string{"label dtype float32", "int64, int32 or uint8"}},
		{"negative label", good, npyBytes("<i8", []int{n}, binary.LittleEndian.AppendUint64(npyLabels(n-1, "<i8"), math.MaxUint64)), []string{"label 2 is -1"}},
		{"labels truncated", good, goodLabels[:len(goodLabels)-1], []string{"y.npy", "truncated"}},
	} {
		dir := t.TempDir()
		path := writeFile(t, filepath.Join(dir, "x.npy"), test.images)
		opt := &Options{}
		if test.labels != nil {
			opt.Labels = writeFile(t, filepath.Join(dir, "y.npy"), test.labels)
		}
		_, err := Open(path, opt)
		wantError(t, test.name, err, test.says...)
	}
}

// TestNPYHeaders checks that strange and hostile headers give one-line
// errors that say what is wrong.
func TestNPYHeaders(t *testing.T) {
	withHeader := func(major byte, header string) []byte {
		b := append([]byte("\x93NUMPY"), major, 0)
		if major == 1 {
			b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
		} else {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
		}
		return append(b, header...)
	}
	huge := append([]byte("\x93NUMPY\x02\x00"), 0xff, 0xff, 0xff, 0xff)
	for _, test := range []struct {
		name string
		data []byte
		says []string
	}{
		{"unicode strings", npyBytes("<U5", []int{3}, make([]byte, 60)), []string{"dtype unicode string (<U5) is not supported", "want float32"}},
		{"byte strings", npyBytes("|S3", []int{3, 1, 1}, make([]byte, 9)), []string{"byte string"}},
		{"objects", npyBytes("|O", []int{3, 1, 1}, make([]byte, 24)), []string{"Python object"}},
		{"structured", withHeader(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }\n"), []string{"malformed .npy header"}},
		{"no newline", withHeader(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1)"), []string{"malformed .npy header"}},
		{"header past the end", huge, []string{"malformed .npy header", "declares 4294967295 bytes"}},
		{"negative dimension", npyBytes("<f4", []int{-1, 1, 1}, nil), []string{"malformed .npy header", "shape"}},
		{"overflowing shape", npyBytes("<f4", []int{1 << 30, 1 << 30, 1 << 30, 1 << 30}, nil), []string{"truncated", "more than 2^64"}},
		{"version 9", withHeader(9, "{}"), []string{"major version 9"}},
		{"empty", nil, []string{"not a NumPy .npy file"}},
	} {
		path := writeFile(t, filepath.Join(t.TempDir(), "x.npy"), test.data)
		_, err := Open(path, nil)
		wantError(t, test.name, err, test.says...)
		if err != nil && strings.ContainsAny(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", test.name, err)
		}
	}
}
