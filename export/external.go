package export

import (
	"fmt"
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
	srcPaths := make([]string, len(tensors))
	for i, tp := range tensors {
		ref, err := onnx.External(tp)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		refs[i] = ref
		if srcPaths[i], err = onnx.ExternalPath(srcDir, ref); err != nil {
			return nil, fmt.Errorf("export: tensor %q: %w", tp.GetName(), err)
		}
		src, err := filepath.Abs(srcPaths[i])
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
		} else if b, err = readRef(sources, srcPaths[i], tp.GetName(), refs[i]); err != nil {
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

// readRef reads the bytes ref points at in path, the file
// onnx.ExternalPath checked for it, keeping the files it opens in sources
// for the next tensor.
func readRef(sources map[string]*os.File, path, name string, ref onnx.ExternalRef) ([]byte, error) {
	f := sources[path]
	if f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("export: tensor %q: external data: %w", name, err)
		}
		sources[path] = f
	}
	b, err := onnx.ReadExternal(f, ref)
	if err != nil {
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
