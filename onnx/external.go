package onnx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ExternalRef is where a tensor's external data lives.
type ExternalRef struct {
	Location       string // relative to the model's folder
	Offset, Length int64  // Length -1 means to the end of the file
}

// External returns the external-data reference of tp, checking that its
// location is a relative path that names no parent folder.
func External(tp *TensorProto) (ExternalRef, error) {
	ref := ExternalRef{Length: -1}
	for _, kv := range tp.GetExternalData() {
		var err error
		var v int64
		switch kv.GetKey() {
		case "location":
			ref.Location = kv.GetValue()
			continue
		case "offset":
			v, err = strconv.ParseInt(kv.GetValue(), 10, 64)
			ref.Offset = v
		case "length":
			v, err = strconv.ParseInt(kv.GetValue(), 10, 64)
			ref.Length = v
		default:
			continue
		}
		if err != nil || v < 0 {
			return ref, fmt.Errorf("%w: tensor %q: external_data %s=%q is not a non-negative integer", ErrInvalid, tp.GetName(), kv.GetKey(), kv.GetValue())
		}
	}
	if ref.Location == "" {
		return ref, fmt.Errorf("%w: tensor %q: external data without a location", ErrInvalid, tp.GetName())
	}
	if !filepath.IsLocal(filepath.FromSlash(ref.Location)) {
		return ref, fmt.Errorf("%w: tensor %q: external data location %q escapes the model's folder; only relative paths inside it are allowed", ErrInvalid, tp.GetName(), ref.Location)
	}
	return ref, nil
}

// ErrOutsideFolder marks external data whose file, once symbolic links
// are followed, lies outside the model's folder. It wraps ErrInvalid.
var ErrOutsideFolder = fmt.Errorf("%w: external data outside the model's folder", ErrInvalid)

// ExternalPath returns the file that ref names for a model in dir (""
// for the current folder), refusing one that resolves, symbolic links
// included, to a place outside dir: a model must not make onnxguard read
// a file its author chose elsewhere on the machine.
func ExternalPath(dir string, ref ExternalRef) (string, error) {
	if dir == "" {
		dir = "."
	}
	if strings.IndexFunc(ref.Location, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return "", fmt.Errorf("%w: external data location %q holds control characters; no file is named so", ErrInvalid, ref.Location)
	}
	path := filepath.Join(dir, filepath.FromSlash(ref.Location))
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("external data %q: the model's folder: %w", ref.Location, bareOSError(err))
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("external data %q: %w", ref.Location, bareOSError(err))
	}
	root, err = filepath.Abs(root)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return "", fmt.Errorf("external data %q: %w", ref.Location, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%w: %q resolves to %q, outside %q; copy the data into the model's folder", ErrOutsideFolder, ref.Location, real, root)
	}
	// A FIFO or device would block or never end; data is in a plain file.
	if st, err := os.Stat(real); err != nil {
		return "", fmt.Errorf("external data %q: %w", ref.Location, bareOSError(err))
	} else if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%w: external data %q is not a regular file (%v)", ErrInvalid, ref.Location, st.Mode().Type())
	}
	return path, nil
}

// bareOSError drops the path from a file system error: the caller's
// message names the location already, quoted, and the raw path, which the
// model controls, could break the message over lines.
func bareOSError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// ExternalTensors returns every tensor of mp whose data lives in an
// external file: initializers, sparse initializers, and tensor attributes
// of nodes in the graph, its subgraphs, functions and training graphs. Any
// of them must move with the model, changed or not.
func ExternalTensors(mp *ModelProto) []*TensorProto {
	var out []*TensorProto
	add := func(tp *TensorProto) {
		if tp != nil && tp.GetDataLocation() == TensorProto_EXTERNAL {
			out = append(out, tp)
		}
	}
	var graph func(*GraphProto)
	nodes := func(ns []*NodeProto) {
		for _, n := range ns {
			for _, a := range n.GetAttribute() {
				add(a.GetT())
				for _, t := range a.GetTensors() {
					add(t)
				}
				for _, st := range append([]*SparseTensorProto{a.GetSparseTensor()}, a.GetSparseTensors()...) {
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
	graph = func(g *GraphProto) {
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

// CheckExternal checks every external-data reference of the model's
// graph, initializers and tensor attributes alike: a well-formed location
// whose file lies inside the model's folder.
func (m *Model) CheckExternal() error {
	for _, tp := range ExternalTensors(m.Proto) {
		ref, err := External(tp)
		if err != nil {
			return err
		}
		if _, err := ExternalPath(m.Dir, ref); err != nil {
			return fmt.Errorf("tensor %q: %w", tp.GetName(), err)
		}
	}
	return nil
}

// ReadExternal reads the bytes ref points at in f, refusing an offset or
// length past the file's end before allocating anything.
func ReadExternal(f *os.File, ref ExternalRef) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if ref.Offset > size {
		return nil, fmt.Errorf("%w: offset %d is past the end of %q (%d bytes)", ErrInvalid, ref.Offset, f.Name(), size)
	}
	length := ref.Length
	if length < 0 {
		length = size - ref.Offset
	}
	if length > size-ref.Offset {
		return nil, fmt.Errorf("%w: %q ends before offset %d + length %d", ErrInvalid, f.Name(), ref.Offset, length)
	}
	buf := make([]byte, length)
	if _, err := f.ReadAt(buf, ref.Offset); err != nil && !(errors.Is(err, io.EOF) && length == 0) {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %q ends before offset %d + length %d", ErrInvalid, f.Name(), ref.Offset, length)
		}
		return nil, err
	}
	return buf, nil
}

func readExternal(tp *TensorProto, dir string) ([]byte, error) {
	ref, err := External(tp)
	if err != nil {
		return nil, err
	}
	path, err := ExternalPath(dir, ref)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", tp.GetName(), err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: external data: %w", tp.GetName(), err)
	}
	defer f.Close()
	buf, err := ReadExternal(f, ref)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: external data: %w", tp.GetName(), err)
	}
	return buf, nil
}
