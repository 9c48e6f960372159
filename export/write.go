package export

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// Options tune Write; nil means defaults.
type Options struct {
	// Metadata is set in the model's metadata_props: an existing entry with
	// the same key gets the new value, entries with other keys are kept,
	// new keys are appended in sorted order.
	Metadata map[string]string
}

// Write writes model m with the float initializers named in values replaced
// by the given data to path, atomically. Each value must have the
// initializer's element count; it is converted back to the initializer's
// data type (float32, float16, bfloat16 or double) and stored in the form
// the initializer already uses (raw_data or the typed field). A value whose
// float32 bits equal the initializer's decoded contents leaves it untouched,
// so a double initializer keeps its full precision unless it was changed.
// m itself is not modified.
//
// When the model keeps tensors in external data files, all of them are
// written to one new file beside path (its name plus ".data", or another
// name where that is one of the source model's data files), before the model
// itself, and the model refers to that file by a relative location.
//
// Unknown names, wrong lengths and non-float initializers are errors that
// name the tensor; nothing is written then.
func Write(path string, m *onnx.Model, values map[string][]float32, opt *Options) error {
	if path == "" {
		return errors.New("export: no output path given")
	}
	if m == nil || m.Proto.GetGraph() == nil {
		return errors.New("export: no model to write (nil model or a model without a graph)")
	}
	if opt == nil {
		opt = &Options{}
	}
	mp := proto.Clone(m.Proto).(*onnx.ModelProto)
	changed, err := changedTensors(mp, m.Dir, values)
	if err != nil {
		return err
	}
	for tp, data := range changed {
		if tp.GetDataLocation() == onnx.TensorProto_EXTERNAL {
			continue // rewriteExternal encodes it into the new data file
		}
		if err := onnx.EncodeFloat(tp, data); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	if err := setMetadata(mp, opt.Metadata); err != nil {
		return err
	}
	var ext *dataFile
	if tensors := onnx.ExternalTensors(mp); len(tensors) > 0 {
		if ext, err = rewriteExternal(path, m.Dir, tensors, changed); err != nil {
			return err
		}
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return fmt.Errorf("export: encoding the model for %s: %w", path, err)
	}
	// The data file goes first: a model must never point at a file that
	// is not complete.
	if ext != nil {
		if err := onnx.WriteFileAtomic(ext.path, ext.data); err != nil {
			return fmt.Errorf("export: external data: %w", err)
		}
	}
	if err := onnx.WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// changedTensors checks values against mp's initializers and returns the
// initializers whose contents differ from the values given, with those
// values. Every problem found is reported, one per tensor.
func changedTensors(mp *onnx.ModelProto, dir string, values map[string][]float32) (map[*onnx.TensorProto][]float32, error) {
	inits := map[string]*onnx.TensorProto{}
	for _, tp := range mp.GetGraph().GetInitializer() {
		if _, dup := inits[tp.GetName()]; dup {
			return nil, fmt.Errorf("export: %w: initializer %q appears twice", onnx.ErrInvalid, tp.GetName())
		}
		inits[tp.GetName()] = tp
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	changed := map[*onnx.TensorProto][]float32{}
	var errs []error
	for _, name := range names {
		data := values[name]
		tp := inits[name]
		if tp == nil {
			errs = append(errs, fmt.Errorf("export: %q is not an initializer of the model; only initializers are written back (not values held in Constant nodes)", name))
			continue
		}
		orig, err := onnx.DecodeTensor(tp, dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("export: reading initializer %q: %w", name, err))
			continue
		}
		if !orig.IsFloat() {
			errs = append(errs, fmt.Errorf("export: initializer %q has data type %v; only float32, float16, bfloat16 and double initializers can be written", name, orig.DataType))
			continue
		}
		if len(data) != orig.Len() {
			errs = append(errs, fmt.Errorf("export: initializer %q has %d elements (dims %v), but %d values were given", name, orig.Len(), orig.Dims, len(data)))
			continue
		}
		if !sameBits(orig.Float, data) {
			changed[tp] = data
		}
	}
	return changed, errors.Join(errs...)
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// setMetadata sets md in mp's metadata_props.
func setMetadata(mp *onnx.ModelProto, md map[string]string) error {
	keys := make([]string, 0, len(md))
	for k := range md {
		if k == "" {
			return errors.New("export: Options.Metadata has an empty key; metadata_props entries need a name")
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		found := false
		for _, p := range mp.MetadataProps {
			if p.GetKey() == k {
				p.Value, found = proto.String(md[k]), true
			}
		}
		if !found {
			mp.MetadataProps = append(mp.MetadataProps, &onnx.StringStringEntryProto{Key: proto.String(k), Value: proto.String(md[k])})
		}
	}
	return nil
}

// Values returns the current values of a Program's parameters, keyed by
// initializer name, as Write takes them: the trained weights and, after
// training-mode passes, BatchNormalization's running statistics. The slices
// are the Program's own, not copies.
func Values(p *interp.Program) map[string][]float32 {
	out := map[string][]float32{}
	for _, prm := range p.Params() {
		out[prm.Name] = prm.T.Data
	}
	return out
}

// dataPathFor returns where the external data of a model written to path
// goes: beside it, avoiding the files in taken (absolute, cleaned paths).
func dataPathFor(path string, taken map[string]bool) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("export: %w", err)
	}
	for i := 0; i < 100; i++ {
		name := abs + ".data"
		if i > 0 {
			name = fmt.Sprintf("%s.%d.data", abs, i)
		}
		if !taken[name] {
			return name, nil
		}
	}
	return "", fmt.Errorf("export: no free name for the external data of %s", path)
}
