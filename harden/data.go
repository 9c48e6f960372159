package harden

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/onnxguard/onnxguard/dataset"
)

// Data is a labelled data set held in memory, as training visits it in a
// new order every epoch. Fashion-MNIST's 60000 training images take 188 MB.
type Data struct {
	X       []float32 // N×C×H×W pixels in [0,1], NCHW
	Labels  []int     // len N
	N       int
	C, H, W int
}

// ReadAll reads every sample of src into memory; src must carry labels.
func ReadAll(src dataset.Source) (*Data, error) {
	if !src.Labelled() {
		return nil, fmt.Errorf("%w; training needs the class of every sample", dataset.ErrNoLabels)
	}
	c, h, w := src.Dims()
	n := src.Len()
	d := &Data{C: c, H: h, W: w, X: make([]float32, 0, n*c*h*w), Labels: make([]int, 0, n)}
	var b dataset.Batch
	for {
		err := src.Next(&b, 1024)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		d.X = append(d.X, b.X[:b.N*c*h*w]...)
		d.Labels = append(d.Labels, b.Labels[:b.N]...)
		d.N += b.N
	}
	if d.N == 0 {
		return nil, errors.New("the training data has no samples")
	}
	return d, nil
}

// Per returns the number of values in one sample.
func (d *Data) Per() int { return d.C * d.H * d.W }

// check reports whether d is consistent.
func (d *Data) check(what string) error {
	switch {
	case d == nil || d.N == 0:
		return fmt.Errorf("%s data has no samples", what)
	case len(d.X) != d.N*d.Per() || len(d.Labels) != d.N:
		return fmt.Errorf("%s data: %d pixel values and %d labels for %d samples of %d×%d×%d", what, len(d.X), len(d.Labels), d.N, d.C, d.H, d.W)
	}
	return nil
}

// splitSeed fixes the validation split independently of Config.Seed, so
// that runs with different seeds are validated on the same samples.
const splitSeed = 0x5eed5eed5eed5eed

// Split holds out round(frac·N) samples (at least 1, and leaving at least
// 1) for validation. The held-out samples are a fixed pseudo-random choice
// that depends only on N, not on the order of classes in the data (image
// folders come sorted by class) nor on the training seed; both parts keep
// the data's order.
func (d *Data) Split(frac float64) (train, val *Data, err error) {
	if err := d.check("training"); err != nil {
		return nil, nil, err
	}
	if frac <= 0 || frac >= 1 {
		return nil, nil, fmt.Errorf("val split %g must be in (0, 1)", frac)
	}
	if d.N < 2 {
		return nil, nil, fmt.Errorf("val split: %d sample cannot be split into training and validation data", d.N)
	}
	k := min(max(int(math.Round(frac*float64(d.N))), 1), d.N-1)
	perm := rand.New(rand.NewPCG(splitSeed, uint64(d.N))).Perm(d.N)
	held := perm[:k]
	slices.Sort(held)
	rest := perm[k:]
	slices.Sort(rest)
	return d.Subset(rest), d.Subset(held), nil
}

// Subset returns the samples at idx, in that order, as new Data.
func (d *Data) Subset(idx []int) *Data {
	s := &Data{N: len(idx), C: d.C, H: d.H, W: d.W}
	s.X, s.Labels = d.gather(make([]float32, 0, len(idx)*d.Per()), make([]int, 0, len(idx)), idx)
	return s
}

// gather appends the pixels and labels of the samples at idx to x and y.
func (d *Data) gather(x []float32, y []int, idx []int) ([]float32, []int) {
	per := d.Per()
	for _, i := range idx {
		x = append(x, d.X[i*per:(i+1)*per]...)
		y = append(y, d.Labels[i])
	}
	return x, y
}

// digest returns a SHA-256 of the samples, so a resume on other data fails.
func (d *Data) digest(h io.Writer) {
	var buf [8]byte
	for _, v := range []int{d.N, d.C, d.H, d.W} {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	writeFloat32s(h, d.X)
	for _, y := range d.Labels {
		binary.LittleEndian.PutUint64(buf[:], uint64(y))
		h.Write(buf[:])
	}
}

// dataDigest hashes the training and validation data.
func dataDigest(train, val *Data) string {
	h := sha256.New()
	train.digest(h)
	if val != nil {
		val.digest(h)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// appendFloat32s appends v's little-endian bytes to dst.
func appendFloat32s(dst []byte, v []float32) []byte {
	for _, f := range v {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
	}
	return dst
}

// writeFloat32s writes v's little-endian bytes to w (a hash) through a
// buffer of 64 Ki values.
func writeFloat32s(w io.Writer, v []float32) {
	const chunk = 1 << 16
	buf := make([]byte, 0, 4*min(chunk, len(v)))
	for lo := 0; lo < len(v); lo += chunk {
		buf = appendFloat32s(buf[:0], v[lo:min(lo+chunk, len(v))])
		w.Write(buf)
	}
}

// epochOrder is the order in which epoch e (0-based) visits n samples:
// a permutation drawn from a PCG seeded with (seed, e), so every epoch
// shuffles afresh and a resumed run visits what an uninterrupted one does.
func epochOrder(n int, seed uint64, e int) []int {
	return rand.New(rand.NewPCG(seed, uint64(e))).Perm(n)
}

// stepSeed derives the seed of one step's randomness (Dropout masks,
// random starts) from the run's seed and the step's position.
func stepSeed(seed uint64, e, step int) uint64 {
	return splitmix(seed ^ splitmix(uint64(e)<<32|uint64(uint32(step))))
}

// splitmix is SplitMix64's finaliser: a bijective mix of 64 bits.
func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
