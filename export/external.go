package export

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
)

// dataAlign is the boundary each tensor starts on in a written data file,
// so that float and double tensors are aligned when it is memory-mapped.
const dataAlign = 64

// dataFile is an external data file to be written.
type dataFile struct {
	path string
	data []byte
}

// externalTensors returns every tensor of mp whose data lives in an
// external file: initializers, sparse initializers, and tensor attributes
// of nodes in the graph, its subgraphs, functions and training graphs. Any
// of them must move with the model, changed or not.
func externalTensors(mp *onnx.ModelProto) []*onnx.TensorProto {
	var out []*onnx.TensorProto
	add := func(tp *onnx.TensorProto) {
		if tp != nil && tp.GetDataLocation() == onnx.TensorProto_EXTERNAL {
			out = append(out, tp)
		}
	}
	var graph func(*onnx.GraphProto)
	nodes := func(ns []*onnx.NodeProto) {
		for _, n := range ns {
			for _, a := range n.GetAttribute() {
				add(a.GetT())
				for _, t := range a.GetTensors() {
					add(t)
				}
				for _, st := range append([]*onnx.SparseTensorProto{a.GetSparseTensor()}, a.GetSparseTensors()...) {
					add(st.GetValues())
					add(st.GetIndices())
				}
				graph(a.GetG())
				for _, g := range a.GetGraphs() {
					graph(g)
				}
			}
		}
	}
	graph = func(g *onnx.GraphProto) {
		if g == nil {
			return
		}
		for _, t := range g.GetInitializer() {
			add(t)
		}
		for _, st := range g.GetSparseInitializer() {
			add(st.GetValues())
			add(st.GetIndices())
		}
		nodes(g.GetNode())
	}
	graph(mp.GetGraph())
	for _, f := range mp.GetFunctions() {
		nodes(f.GetNode())
	}
	for _, ti := range mp.GetTrainingInfo() {
		graph(ti.GetInitialization())
		graph(ti.GetAlgorithm())
	}
	return out
}

// rewriteExternal builds the data file for a model written to path from
// tensors, whose data the source model keeps in files relative to srcDir:
// the bytes of changed tensors encoded anew, the others copied. It points
// each tensor at its place in the new file.
func rewriteExternal(path, srcDir string, tensors []*onnx.TensorProto, changed map[*onnx.TensorProto][]float32) (*dataFile, error) {
	sources := map[string]*os.File{}
	defer func() {
		for _, f := range sources {
			f.Close()
		}
	}()
	taken := map[string]bool{}
	refs := make([]onnx.ExternalRef, len(tensors))
	for i, tp := range tensors {
		ref, err := onnx.External(tp)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		refs[i] = ref
		src, err := filepath.Abs(filepath.Join(srcDir, filepath.FromSlash(ref.Location)))
		if err != nil {
			return nil, fmt.Errorf("export: tensor %q: %w", tp.GetName(), err)
		}
		taken[src] = true
	}
	dataPath, err := dataPathFor(path, taken)
	if err != nil {
		return nil, err
	}
	var buf []byte
	for i, tp := range tensors {
		var b []byte
		if data, ok := changed[tp]; ok {
			b = onnx.EncodeRaw(onnx.TensorProto_DataType(tp.GetDataType()), data)
		} else if b, err = readRef(sources, srcDir, tp.GetName(), refs[i]); err != nil {
			return nil, err
		}
		for len(buf)%dataAlign != 0 {
			buf = append(buf, 0)
		}
		offset := len(buf)
		buf = append(buf, b...)
		setExternal(tp, filepath.Base(dataPath), int64(offset), int64(len(b)))
	}
	return &dataFile{path: dataPath, data: buf}, nil
}

// readRef reads the bytes ref points at, keeping the files it opens in
// sources for the next tensor.
func readRef(sources map[string]*os.File, dir, name string, ref onnx.ExternalRef) ([]byte, error) {
	path := filepath.Join(dir, filepath.FromSlash(ref.Location))
	f := sources[path]
	if f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("export: tensor %q: external data: %w", name, err)
		}
		sources[path] = f
	}
	length := ref.Length
	if length < 0 {
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("export: tensor %q: external data: %w", name, err)
		}
		length = st.Size() - ref.Offset
	}
	if length < 0 {
		return nil, fmt.Errorf("export: %w: tensor %q: offset %d is past the end of %s", onnx.ErrInvalid, name, ref.Offset, path)
	}
	b := make([]byte, length)
	if _, err := f.ReadAt(b, ref.Offset); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("export: %w: tensor %q: %s ends before offset %d + length %d", onnx.ErrInvalid, name, path, ref.Offset, length)
		}
		return nil, fmt.Errorf("export: tensor %q: external data: %w", name, err)
	}
	return b, nil
}

// setExternal points tp at its bytes in the new data file. The other keys
// are kept, except checksum, which described the old file.
func setExternal(tp *onnx.TensorProto, location string, offset, length int64) {
	kept := tp.ExternalData[:0]
	for _, kv := range tp.ExternalData {
		switch kv.GetKey() {
		case "location", "offset", "length", "checksum":
		default:
			kept = append(kept, kv)
		}
	}
	tp.ExternalData = append([]*onnx.StringStringEntryProto{
		{Key: proto.String("location"), Value: proto.String(location)},
		{Key: proto.String("offset"), Value: proto.String(strconv.FormatInt(offset, 10))},
		{Key: proto.String("length"), Value: proto.String(strconv.FormatInt(length, 10))},
	}, kept...)
}
