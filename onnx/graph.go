package onnx

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Graph is a checked view of a model's main graph.
type Graph struct {
	// Inputs are the graph inputs that are not initializers.
	Inputs []ValueInfo
	// Outputs are the graph outputs.
	Outputs []ValueInfo
	// Nodes are in topological order: every node comes after the nodes
	// that produce its inputs; ties keep the file's order.
	Nodes []*Node
	// Opset is the model's operator set version for the default domain.
	Opset int64

	model *Model
	inits map[string]*TensorProto
	names []string
}

// ValueInfo describes a graph input or output.
type ValueInfo struct {
	Name string
	// Shape holds the dimensions, -1 where a dimension is symbolic or
	// unknown; nil when the model declares no shape.
	Shape []int64
	// DimNames holds the symbolic names ("batch_size"), "" where fixed.
	DimNames []string
	ElemType TensorProto_DataType
}

// Node is one graph node with its attributes indexed by name.
type Node struct {
	Proto   *NodeProto
	Name    string // the node's name, or "OpType#index" when it has none
	OpType  string
	Domain  string
	Inputs  []string // "" marks an omitted optional input
	Outputs []string
	attrs   map[string]*AttributeProto
}

// String names the node for messages: its operator and quoted name. An
// operator name with characters that are not printable is quoted too, so a
// hostile model cannot break a one-line error or reach the terminal with
// control characters.
func (n *Node) String() string { return fmt.Sprintf("%s %q", Printable(n.OpType), n.Name) }

// Printable returns s, or s quoted when it is empty or holds a character
// that is not printable.
func Printable(s string) string {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// Graph checks the model's graph and returns its view. It fails on a node
// input that nothing produces, on a cycle, and on a value produced twice.
func (m *Model) Graph() (*Graph, error) {
	gp := m.Proto.GetGraph()
	if gp == nil {
		return nil, fmt.Errorf("%w: the model has no graph", ErrInvalid)
	}
	g := &Graph{model: m, inits: map[string]*TensorProto{}, Opset: m.Opset("")}
	if len(m.Proto.GetOpsetImport()) == 0 {
		g.Opset = 1 // IR version 1-2 models imply opset 1
	}
	for _, t := range gp.GetInitializer() {
		if _, dup := g.inits[t.GetName()]; dup {
			return nil, fmt.Errorf("%w: initializer %q appears twice", ErrInvalid, t.GetName())
		}
		g.inits[t.GetName()] = t
		g.names = append(g.names, t.GetName())
	}
	produced := map[string]string{} // value name -> producer description
	for _, vi := range gp.GetInput() {
		if _, isInit := g.inits[vi.GetName()]; !isInit {
			g.Inputs = append(g.Inputs, valueInfo(vi))
		}
		produced[vi.GetName()] = "graph input"
	}
	for name := range g.inits {
		produced[name] = "initializer"
	}
	for _, vi := range gp.GetOutput() {
		g.Outputs = append(g.Outputs, valueInfo(vi))
	}

	nodes := make([]*Node, len(gp.GetNode()))
	for i, np := range gp.GetNode() {
		n := &Node{Proto: np, Name: np.GetName(), OpType: np.GetOpType(), Domain: np.GetDomain(),
			Inputs: np.GetInput(), Outputs: np.GetOutput(), attrs: map[string]*AttributeProto{}}
		if n.Name == "" {
			n.Name = fmt.Sprintf("%s#%d", n.OpType, i)
		}
		for _, a := range np.GetAttribute() {
			n.attrs[a.GetName()] = a
		}
		for _, out := range n.Outputs {
			if out == "" {
				continue
			}
			if prev, dup := produced[out]; dup {
				return nil, fmt.Errorf("%w: node %s writes %q, which is already a %s", ErrInvalid, n, out, prev)
			}
			produced[out] = "output of node " + n.String()
		}
		nodes[i] = n
	}
	var err error
	if g.Nodes, err = topoSort(nodes, produced); err != nil {
		return nil, err
	}
	for _, o := range g.Outputs {
		if _, ok := produced[o.Name]; !ok {
			return nil, fmt.Errorf("%w: graph output %q is produced by no node", ErrInvalid, o.Name)
		}
	}
	return g, nil
}

// topoSort orders nodes so that producers come first (Kahn's algorithm,
// taking the lowest file index among the ready nodes).
func topoSort(nodes []*Node, produced map[string]string) ([]*Node, error) {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, out := range n.Outputs {
			producer[out] = i
		}
	}
	pending := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			if _, ok := produced[in]; !ok {
				return nil, fmt.Errorf("%w: node %s reads %q, which no node, input or initializer produces", ErrInvalid, n, in)
			}
			if p, ok := producer[in]; ok {
				pending[i]++
				users[p] = append(users[p], i)
			}
		}
	}
	var ready []int
	for i := range nodes {
		if pending[i] == 0 {
			ready = append(ready, i)
		}
	}
	order := make([]*Node, 0, len(nodes))
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		order = append(order, nodes[i])
		for _, u := range users[i] {
			if pending[u]--; pending[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(order) != len(nodes) {
		for i, n := range nodes {
			if pending[i] > 0 {
				return nil, fmt.Errorf("%w: the graph has a cycle through node %s", ErrInvalid, n)
			}
		}
	}
	return order, nil
}

func valueInfo(vi *ValueInfoProto) ValueInfo {
	v := ValueInfo{Name: vi.GetName()}
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return v
	}
	v.ElemType = TensorProto_DataType(tt.GetElemType())
	if tt.GetShape() == nil {
		return v
	}
	for _, d := range tt.GetShape().GetDim() {
		if dv, ok := d.GetValue().(*TensorShapeProto_Dimension_DimValue); ok && dv.DimValue > 0 {
			v.Shape = append(v.Shape, dv.DimValue)
			v.DimNames = append(v.DimNames, "")
		} else {
			v.Shape = append(v.Shape, -1)
			v.DimNames = append(v.DimNames, d.GetDimParam())
		}
	}
	return v
}

// InitializerNames returns the initializers' names in file order.
func (g *Graph) InitializerNames() []string { return g.names }

// InitializerProto returns the stored initializer called name, or nil.
func (g *Graph) InitializerProto(name string) *TensorProto { return g.inits[name] }

// Initializer decodes the initializer called name; ok is false when there is
// none by that name.
func (g *Graph) Initializer(name string) (t *Tensor, ok bool, err error) {
	tp := g.inits[name]
	if tp == nil {
		return nil, false, nil
	}
	t, err = DecodeTensor(tp, g.model.Dir)
	if err != nil {
		return nil, true, fmt.Errorf("initializer %q: %w", name, err)
	}
	return t, true, nil
}

// ParamCount returns the number of elements in all floating-point
// initializers: the model's trainable parameters and statistics.
func (g *Graph) ParamCount() int64 {
	var n int64
	for _, tp := range g.inits {
		if isFloatType(TensorProto_DataType(tp.GetDataType())) {
			n += int64(numElements(tp.GetDims()))
		}
	}
	return n
}

// OpHistogram counts the nodes of each op type ("domain:Op" outside the
// default domain).
func (g *Graph) OpHistogram() map[string]int {
	h := map[string]int{}
	for _, n := range g.Nodes {
		key := n.OpType
		if n.Domain != "" && n.Domain != "ai.onnx" {
			key = n.Domain + ":" + n.OpType
		}
		h[key]++
	}
	return h
}
