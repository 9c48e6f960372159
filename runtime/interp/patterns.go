package interp

import (
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// fusePatterns returns nodes (filtered in place) with every subgraph a
// registered pattern describes (ops.Patterns) replaced by one node reading
// the pattern's input alone; readers is kept up to date. The node takes
// the place of the subgraph's last one, so everything it reads is computed
// before it and everything reading it after.
func (p *Program) fusePatterns(nodes []node, readers []int) []node {
	producer := map[int]int{} // slot → index in nodes of the node writing it
	for i, nd := range nodes {
		for _, s := range nd.out {
			producer[s] = i
		}
	}
	names := make([]string, len(p.consts))
	for name, s := range p.slots {
		names[s] = name
	}
	trained := make([]bool, len(p.consts))
	for _, prm := range p.params {
		trained[p.slots[prm.Name]] = true
	}
	drop := make([]bool, len(nodes))
	for _, pat := range ops.Patterns() {
		for i := range nodes {
			m := &patternMatch{p: p, pat: pat, nodes: nodes, producer: producer, readers: readers, drop: drop, trained: trained}
			op, ok := m.match(i, names)
			if !ok {
				continue
			}
			for k, j := range m.at {
				for _, s := range nodes[j].in {
					readers[s]--
				}
				if k < len(m.at)-1 {
					drop[j] = true
				}
			}
			readers[m.x]++
			last := &nodes[i]
			last.op, last.in = op, []int{m.x}
			last.n = &onnx.Node{Name: last.n.Name, OpType: pat.Name, Inputs: []string{names[m.x]}, Outputs: last.n.Outputs}
		}
	}
	out := nodes[:0]
	for i, nd := range nodes {
		if !drop[i] {
			out = append(out, nd)
		}
	}
	return out
}

// patternMatch is one attempt to match a pattern with its last step at a
// given node, walking back along the steps' inputs.
type patternMatch struct {
	p        *Program
	pat      ops.Pattern
	nodes    []node
	producer map[int]int
	readers  []int
	drop     []bool
	trained  []bool // slots of trained parameters, which a fused op would hide from training

	at     []int       // node index per step, -1 before it is matched
	x      int         // the pattern's input slot, -1 before it is seen
	consts [][]float32 // per step, the constant each operand read (0 for others)
	rank   int         // the largest rank of a constant read
}

// match reports whether the pattern ends at node i and, if so, the op
// computing it.
func (m *patternMatch) match(i int, names []string) (ops.Op, bool) {
	n := len(m.pat.Steps)
	m.at, m.x, m.consts = make([]int, n), -1, make([][]float32, n)
	for k := range m.at {
		m.at[k] = -1
	}
	if n == 0 || !m.step(n-1, i) || m.x < 0 {
		return nil, false
	}
	for _, j := range m.at {
		if j < 0 {
			return nil, false // a step that does not lead to the last
		}
	}
	// Every constant has one element: of no larger rank than x, it
	// leaves every step's output x's shape.
	if shape, ok := m.p.shapes[names[m.x]]; !ok || m.rank > len(shape) {
		return nil, false
	}
	var consts []float32
	for k, st := range m.pat.Steps {
		for j, o := range st.In {
			if o.Constant() {
				consts = append(consts, m.consts[k][j])
			}
		}
	}
	return m.pat.Op(consts)
}

// step reports whether node i can be step k, given what is matched so far;
// where it cannot, the match is left as it was.
func (m *patternMatch) step(k, i int) bool {
	if m.at[k] >= 0 || m.drop[i] {
		return m.at[k] == i && !m.drop[i]
	}
	for _, j := range m.at {
		if j == i {
			return false // one node, two steps
		}
	}
	nd, st := &m.nodes[i], m.pat.Steps[k]
	if nd.n.OpType != st.Type || len(nd.in) != len(st.In) || len(nd.out) != 1 {
		return false
	}
	inOrder := make([]int, len(st.In))
	for j := range inOrder {
		inOrder[j] = j
	}
	orders := [][]int{inOrder}
	if st.Commutes && len(st.In) == 2 {
		orders = append(orders, []int{1, 0})
	}
	for _, order := range orders {
		saved := m.save()
		m.at[k], m.consts[k] = i, make([]float32, len(st.In))
		ok := true
		for j, o := range st.In {
			if ok = m.operand(o, nd.in[order[j]], k, j); !ok {
				break
			}
		}
		if ok {
			return true
		}
		m.restore(saved)
	}
	return false
}

// operand reports whether slot s can be operand j of step k, o.
func (m *patternMatch) operand(o ops.Operand, s, k, j int) bool {
	if s < 0 {
		return false
	}
	switch kk, isStep := o.Step(); {
	case o.Input():
		if m.x < 0 {
			m.x = s
		}
		return m.x == s
	case o.Constant():
		c := m.p.consts[s]
		if c == nil || m.trained[s] || c.IsInt() || len(c.Data) != 1 || !o.Accepts(c.Data[0]) {
			return false
		}
		m.consts[k][j], m.rank = c.Data[0], max(m.rank, len(c.Shape))
		return true
	case isStep:
		i, ok := m.producer[s]
		return ok && m.readers[s] == m.refs(kk) && m.step(kk, i)
	}
	return false
}

// refs counts the operands of the pattern reading step k's output.
func (m *patternMatch) refs(k int) int {
	n := 0
	for _, st := range m.pat.Steps {
		for _, o := range st.In {
			if j, ok := o.Step(); ok && j == k {
				n++
			}
		}
	}
	return n
}

// matchState is what save keeps to undo a failed try.
type matchState struct {
	at     []int
	x      int
	consts [][]float32
	rank   int
}

func (m *patternMatch) save() matchState {
	return matchState{append([]int(nil), m.at...), m.x, append([][]float32(nil), m.consts...), m.rank}
}

func (m *patternMatch) restore(s matchState) {
	m.at, m.x, m.consts, m.rank = s.at, s.x, s.consts, s.rank
}
