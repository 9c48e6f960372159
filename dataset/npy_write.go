package dataset

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/onnxguard/onnxguard/internal/atomicfile"
)

// WriteNpy saves data as a little-endian float32 .npy array (format
// version 1.0) of the given row-major shape. The file appears whole or not
// at all. npyio, which reads our .npy inputs, writes N-D arrays only from
// nested slices, so the header is written here, as the NumPy format
// specification gives it.
func WriteNpy(path string, data []float32, shape []int) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("writing %s: %d values for shape %v", path, len(data), shape)
	}
	w, err := CreateNpy(path, shape)
	if err != nil {
		return err
	}
	if err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// NpyWriter streams a float32 .npy array of a shape known in advance to a
// temporary file that Close renames into place, so large outputs need not
// be held in memory and a crash leaves no partial file under the name.
type NpyWriter struct {
	path    string
	f       *atomicfile.File
	w       *bufio.Writer
	want, n int
	buf     []byte
}

// CreateNpy starts writing a float32 .npy array of the given shape to path.
func CreateNpy(path string, shape []int) (*NpyWriter, error) {
	n := 1
	dims := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("writing %s: negative dimension in shape %v", path, shape)
		}
		n *= d
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", tuple)
	// magic (6) + version (2) + length (2) + header + padding + '\n' is a
	// multiple of 64.
	pad := 64 - (10+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	w := &NpyWriter{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20), want: n}
	w.w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w.w, binary.LittleEndian, uint16(len(header)))
	w.w.WriteString(header)
	return w, nil
}

// Write appends values in row-major order.
func (w *NpyWriter) Write(v []float32) error {
	if w.n+len(v) > w.want {
		return fmt.Errorf("writing %s: %d values overflow the %d the shape holds", w.path, w.n+len(v), w.want)
	}
	if cap(w.buf) < 4*len(v) {
		w.buf = make([]byte, 4*len(v))
	}
	b := w.buf[:4*len(v)]
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	w.n += len(v)
	return nil
}

// Close checks that the shape is full, then puts the file in place. On
// error nothing is left under the name.
func (w *NpyWriter) Close() error {
	if w.n != w.want {
		w.f.Abort()
		return fmt.Errorf("writing %s: %d values written, the shape holds %d", w.path, w.n, w.want)
	}
	if err := w.w.Flush(); err != nil {
		w.f.Abort()
		return err
	}
	return w.f.Commit()
}

// Abort discards what was written.
func (w *NpyWriter) Abort() {
	w.f.Abort()
}
