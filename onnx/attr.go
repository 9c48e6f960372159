package onnx

import "fmt"

// The attribute getters return def when the node has no attribute by that
// name, so the spec's default is written once, at the call. An attribute of
// the wrong type is an error that names the node.

// Has reports whether the node sets the attribute.
func (n *Node) Has(name string) bool { _, ok := n.attrs[name]; return ok }

// AttrNames returns the names of the attributes the node sets.
func (n *Node) AttrNames() []string {
	names := make([]string, 0, len(n.attrs))
	for _, a := range n.Proto.GetAttribute() {
		names = append(names, a.GetName())
	}
	return names
}

func (n *Node) attr(name string, want AttributeProto_AttributeType) (*AttributeProto, error) {
	a, ok := n.attrs[name]
	if !ok {
		return nil, nil
	}
	got := a.GetType()
	if got == AttributeProto_UNDEFINED {
		got = inferAttrType(a) // IR-3 era exporters sometimes omit the type
	}
	if got != want {
		return nil, fmt.Errorf("%w: node %s: attribute %q is %v, want %v", ErrInvalid, n, name, got, want)
	}
	return a, nil
}

func inferAttrType(a *AttributeProto) AttributeProto_AttributeType {
	switch {
	case a.F != nil:
		return AttributeProto_FLOAT
	case a.I != nil:
		return AttributeProto_INT
	case a.S != nil:
		return AttributeProto_STRING
	case a.T != nil:
		return AttributeProto_TENSOR
	case a.G != nil:
		return AttributeProto_GRAPH
	case len(a.Floats) > 0:
		return AttributeProto_FLOATS
	case len(a.Ints) > 0:
		return AttributeProto_INTS
	case len(a.Strings) > 0:
		return AttributeProto_STRINGS
	}
	return AttributeProto_UNDEFINED
}

// Int returns an INT attribute.
func (n *Node) Int(name string, def int64) (int64, error) {
	a, err := n.attr(name, AttributeProto_INT)
	if a == nil || err != nil {
		return def, err
	}
	return a.GetI(), nil
}

// Float returns a FLOAT attribute.
func (n *Node) Float(name string, def float32) (float32, error) {
	a, err := n.attr(name, AttributeProto_FLOAT)
	if a == nil || err != nil {
		return def, err
	}
	return a.GetF(), nil
}

// Str returns a STRING attribute.
func (n *Node) Str(name, def string) (string, error) {
	a, err := n.attr(name, AttributeProto_STRING)
	if a == nil || err != nil {
		return def, err
	}
	return string(a.GetS()), nil
}

// Ints returns an INTS attribute; def is returned as given, not copied.
func (n *Node) Ints(name string, def []int64) ([]int64, error) {
	a, err := n.attr(name, AttributeProto_INTS)
	if a == nil || err != nil {
		return def, err
	}
	return a.GetInts(), nil
}

// Floats returns a FLOATS attribute.
func (n *Node) Floats(name string, def []float32) ([]float32, error) {
	a, err := n.attr(name, AttributeProto_FLOATS)
	if a == nil || err != nil {
		return def, err
	}
	return a.GetFloats(), nil
}

// Tensor returns a TENSOR attribute decoded, or nil when it is absent.
// dir resolves external data, as for initializers.
func (n *Node) Tensor(name, dir string) (*Tensor, error) {
	a, err := n.attr(name, AttributeProto_TENSOR)
	if a == nil || err != nil {
		return nil, err
	}
	t, err := DecodeTensor(a.GetT(), dir)
	if err != nil {
		return nil, fmt.Errorf("node %s: attribute %q: %w", n, name, err)
	}
	return t, nil
}
