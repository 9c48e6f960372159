package harden

import (
	"bufio"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/internal/atomicfile"
)

// A checkpoint file (version 4) is a gob stream: a ckHead, which is the
// Checkpoint without its float arrays, then each array's values as
// little-endian float32 bytes in messages of at most chunkFloats values,
// in the order ckHead.arrays lists them. Gob encodes a float slice value by
// value, at about 6 bytes and 45 ns a float, and a message whole in memory
// before it writes it: ViT-B/16's checkpoint (weights, best weights and
// Adam's two moments, 4 × 86 M floats) took 34 s and 6 GB of transient
// memory per epoch that way. As bytes in bounded messages it is written
// as fast as the disk takes it, through a buffer of one chunk.
const chunkFloats = 1 << 20

// ckHead is a Checkpoint without its arrays, whose lengths it lists.
type ckHead struct {
	Version     int
	Config      Config
	Pre         dataset.Preprocess
	StartSHA256 string
	DataSHA256  string
	Params      []string
	Epoch       int
	BestEpoch   int
	History     []Epoch
	Stopped     string
	// The optimizer's settings and Adam's step counts, without their
	// arrays: a version 3 file, decoded as a ckHead, then skips them.
	SGD  *sgdHead
	Adam *adamHead
	// The lengths of the arrays that follow: Weights and Best aligned with
	// Params, then the optimizer's (SGD.Velocity, or Adam.M and Adam.V).
	// (Named apart from Checkpoint's fields, so that a version 3 file
	// decodes as a ckHead too.)
	WeightLens, BestLens, VelocityLens, MLens, VLens []int
}

// sgdHead and adamHead are SGDM and AdamW without their arrays.
type sgdHead struct{ Momentum, WeightDecay float64 }

type adamHead struct {
	Beta1, Beta2, Eps, WeightDecay float64
	T                              []int
}

// errDamaged marks a file that does not decode as a checkpoint.
var errDamaged = errors.New("it is not a checkpoint onnxguard wrote, or it is damaged")

// writeCheckpoint writes ck to path atomically, streaming its arrays.
func writeCheckpoint(path string, ck *Checkpoint) (err error) {
	h := ckHead{Version: ck.Version, Config: ck.Config, Pre: ck.Pre, StartSHA256: ck.StartSHA256, DataSHA256: ck.DataSHA256,
		Params: ck.Params, Epoch: ck.Epoch, BestEpoch: ck.BestEpoch, History: ck.History, Stopped: ck.Stopped}
	var arrays [][]float32
	add := func(lens *[]int, a ...[]float32) {
		for _, v := range a {
			*lens = append(*lens, len(v))
			arrays = append(arrays, v)
		}
	}
	for _, name := range ck.Params {
		add(&h.WeightLens, ck.Weights[name])
	}
	for _, name := range ck.Params {
		add(&h.BestLens, ck.Best[name])
	}
	if o := ck.SGD; o != nil {
		h.SGD = &sgdHead{Momentum: o.Momentum, WeightDecay: o.WeightDecay}
		add(&h.VelocityLens, o.Velocity...)
	}
	if o := ck.Adam; o != nil {
		h.Adam = &adamHead{Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay, T: o.T}
		add(&h.MLens, o.M...)
		add(&h.VLens, o.V...)
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Abort()
		}
	}()
	w := bufio.NewWriterSize(f, 4*chunkFloats+64)
	enc := gob.NewEncoder(w)
	if err := enc.Encode(&h); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	buf := make([]byte, 0, 4*chunkFloats)
	for _, a := range arrays {
		for lo := 0; lo < len(a); lo += chunkFloats {
			buf = appendFloat32s(buf[:0], a[lo:min(lo+chunkFloats, len(a))])
			if err := enc.Encode(buf); err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Commit()
}

// readCheckpoint reads the checkpoint file at path: version 4, or the
// single gob message of version 3.
func readCheckpoint(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	dec := gob.NewDecoder(bufio.NewReader(f))
	var h ckHead
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%v; %w", err, errDamaged)
	}
	if h.Version == 3 {
		// Version 3 is one Checkpoint message: read it again as that. The
		// header's pass comes first all the same: a forged message whose
		// maps claim millions of entries fails it at once, where decoding
		// the maps would first allocate for them.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		var ck Checkpoint
		if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&ck); err != nil {
			return nil, fmt.Errorf("%v; %w", err, errDamaged)
		}
		return &ck, nil
	}
	if h.Version != checkpointVersion {
		return &Checkpoint{Version: h.Version}, nil // LoadCheckpoint says which
	}
	ck, err := h.arrays(dec, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%v; %w", err, errDamaged)
	}
	return ck, nil
}

// arrays reads the arrays that follow h from dec, whose file has size
// bytes, into the Checkpoint h describes.
func (h *ckHead) arrays(dec *gob.Decoder, size int64) (*Checkpoint, error) {
	if len(h.WeightLens) != len(h.Params) || len(h.BestLens) != len(h.Params) ||
		h.SGD == nil && len(h.VelocityLens) > 0 || h.Adam == nil && len(h.MLens)+len(h.VLens) > 0 {
		return nil, fmt.Errorf("%d weights, %d best weights and optimizer arrays %d/%d/%d listed for %d parameters", len(h.WeightLens), len(h.BestLens), len(h.VelocityLens), len(h.MLens), len(h.VLens), len(h.Params))
	}
	var total int64
	for _, lens := range [][]int{h.WeightLens, h.BestLens, h.VelocityLens, h.MLens, h.VLens} {
		for _, n := range lens {
			if n < 0 || int64(n) > size {
				return nil, fmt.Errorf("an array of %d values in a file of %d bytes", n, size)
			}
			total += int64(n)
		}
	}
	if 4*total > size {
		return nil, fmt.Errorf("%d values listed in a file of %d bytes", total, size)
	}
	ck := &Checkpoint{Version: h.Version, Config: h.Config, Pre: h.Pre, StartSHA256: h.StartSHA256, DataSHA256: h.DataSHA256,
		Params: h.Params, Epoch: h.Epoch, BestEpoch: h.BestEpoch, History: h.History, Stopped: h.Stopped,
		Weights: make(map[string][]float32, len(h.Params)), Best: make(map[string][]float32, len(h.Params))}
	var buf []byte
	read := func(n int) ([]float32, error) {
		if n == 0 {
			return nil, nil
		}
		a := make([]float32, 0, n) // n is bounded by the file's size above
		for len(a) < n {
			buf = buf[:0]
			if err := dec.Decode(&buf); err != nil {
				return nil, err
			}
			if len(buf)%4 != 0 || len(buf) == 0 || len(a)+len(buf)/4 > n {
				return nil, fmt.Errorf("a chunk of %d bytes for an array of %d values, %d read", len(buf), n, len(a))
			}
			for i := 0; i < len(buf); i += 4 {
				a = append(a, math.Float32frombits(binary.LittleEndian.Uint32(buf[i:])))
			}
		}
		return a, nil
	}
	if o := h.SGD; o != nil {
		ck.SGD = &SGDM{Momentum: o.Momentum, WeightDecay: o.WeightDecay, Velocity: make([][]float32, len(h.VelocityLens))}
	}
	if o := h.Adam; o != nil {
		ck.Adam = &AdamW{Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay, T: o.T,
			M: make([][]float32, len(h.MLens)), V: make([][]float32, len(h.VLens))}
	}
	for _, part := range []struct {
		lens []int
		put  func(i int, a []float32)
	}{
		{h.WeightLens, func(i int, a []float32) { ck.Weights[h.Params[i]] = a }},
		{h.BestLens, func(i int, a []float32) { ck.Best[h.Params[i]] = a }},
		{h.VelocityLens, func(i int, a []float32) { ck.SGD.Velocity[i] = a }},
		{h.MLens, func(i int, a []float32) { ck.Adam.M[i] = a }},
		{h.VLens, func(i int, a []float32) { ck.Adam.V[i] = a }},
	} {
		for i, n := range part.lens {
			a, err := read(n)
			if err != nil {
				return nil, err
			}
			part.put(i, a)
		}
	}
	return ck, nil
}
