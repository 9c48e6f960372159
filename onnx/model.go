package onnx

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/internal/atomicfile"
)

// ErrInvalid marks a model that is malformed: not a protobuf, no graph, a
// cycle, a dangling node input. ErrUnsupported marks a well-formed model that
// uses something onnxguard cannot handle. Test with errors.Is.
var (
	ErrInvalid     = errors.New("invalid ONNX model")
	ErrUnsupported = errors.New("unsupported")
)

// Model is a loaded ONNX model.
type Model struct {
	// Proto is the decoded model. Changes to it are written by Save.
	Proto *ModelProto
	// Path is the file the model was loaded from; empty for Parse.
	Path string
	// Dir is the folder that external tensor data is resolved against.
	Dir string

	raw []byte // the bytes loaded, written back by Save when Proto is unchanged
	// pristine is Proto as decoded, sharing its initializers' raw data
	// with raw, to tell whether Proto changed without decoding raw again;
	// nil where the raw data could not be shared.
	pristine *ModelProto
}

// Load reads the ONNX model at path. Tensors stored as external data are
// resolved relative to the model's folder when they are decoded.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading model: %w", err)
	}
	m, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Path = path
	return m, nil
}

// Parse decodes a serialized ModelProto. dir is the folder external tensor
// data is relative to; it may be empty when the model has none. The Model
// owns data from then on: its initializers' raw data lie in it, so data
// must not be written to after.
func Parse(data []byte, dir string) (*Model, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrInvalid)
	}
	var mp ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil {
		return nil, fmt.Errorf("%w: not an ONNX protobuf (%v); is this really a .onnx file?", ErrInvalid, err)
	}
	if mp.Graph == nil {
		return nil, fmt.Errorf("%w: the model has no graph (ir_version %d, producer %q); is this really a .onnx model file?", ErrInvalid, mp.GetIrVersion(), mp.GetProducerName())
	}
	m := &Model{Proto: &mp, Dir: dir, raw: data}
	// Sharing the file's bytes, and the snapshot that shares them but
	// copies the rest, cost more than they save on a small model (the scan,
	// proto.Clone, and protobuf's copies turned to garbage at once): both
	// are for models whose raw data is large, and the snapshot not where the
	// rest is large too (weights in float_data, big Constant nodes).
	if raw := rawSize(&mp); raw >= minSnapshotRaw && aliasRawData(data, &mp) {
		if len(data)-raw <= maxSnapshot { // the rest of the file: what the clone copies
			m.pristine = cloneSharingRaw(&mp)
		}
	}
	return m, nil
}

// Opset returns the operator set version the model imports for a domain;
// "" and "ai.onnx" both name the default domain. It returns 0 when the
// domain is not imported.
func (m *Model) Opset(domain string) int64 {
	if domain == "ai.onnx" {
		domain = ""
	}
	for _, o := range m.Proto.GetOpsetImport() {
		d := o.GetDomain()
		if d == "ai.onnx" {
			d = ""
		}
		if d == domain {
			return o.GetVersion()
		}
	}
	return 0
}

// SHA256 returns the hex digest of the serialized model: of the file as
// loaded while Proto is unchanged, the fingerprint reports identify it by.
func (m *Model) SHA256() (string, error) {
	data, err := m.Marshal()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Marshal returns the serialized model: the bytes that were loaded when
// Proto is unchanged, so that an untouched model round-trips byte for byte.
func (m *Model) Marshal() ([]byte, error) {
	if m.raw != nil && m.pristine != nil {
		if proto.Equal(m.pristine, m.Proto) {
			return m.raw, nil
		}
	} else if m.raw != nil {
		var orig ModelProto
		if proto.Unmarshal(m.raw, &orig) == nil && proto.Equal(&orig, m.Proto) {
			return m.raw, nil
		}
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.Proto)
	if err != nil {
		return nil, fmt.Errorf("encoding model: %w", err)
	}
	return data, nil
}

// Save writes the model to path atomically: the data goes to a temporary
// file in the same folder that is renamed over path only once complete, so
// a crash never leaves a truncated model behind. External data files are not
// written; the export stage rewrites them beside the new model.
func (m *Model) Save(path string) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data)
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path (package atomicfile, the one way files are written).
func WriteFileAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data)
}
