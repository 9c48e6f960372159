package ops

// A Fusion is a rule joining two nodes into one: a node of type Then with
// one input and one output, whose input nothing else reads, into the node
// of type First (one output) that writes that input (or, for a Gate, a
// Then that also reads First's input). Operators register
// their fusions beside their code (registerFusion); the executor applies
// every rule to every such pair, and again until none applies, so rules
// chain (Conv, Relu, then MaxPool). The fused node keeps First's inputs
// and takes Then's output.
type Fusion struct {
	Name        string // says what joins what, for options and tests
	First, Then string // operator types
	// Gate marks a rule for y = Then(x, First(x)) (SiLU exported as
	// Mul(x, Sigmoid(x))): Then reads First's output, which nothing else
	// reads, and First's one input x, in either order, so Then must be
	// commutative. The fused node reads x alone.
	Gate bool
	// Operands marks a rule whose Then reads First's output as its first
	// input and values besides, each read as it is (a Conv's weights and
	// bias): the fused node reads First's inputs, then Then's others.
	Operands bool
	// Join returns the op computing both, or ok false where the pair does
	// not qualify. shapes are the shapes of first's inputs inferred at
	// compile time (-1 for dimensions that follow the batch, nil where
	// unknown); kernels says the nodes take the vector kernels' paths
	// (State.Kernels).
	Join func(first, then Op, shapes [][]int, kernels bool) (fused Op, ok bool)
}

var fusions []Fusion

// registerFusion adds a rule; called from init functions.
func registerFusion(f Fusion) { fusions = append(fusions, f) }

// Fusions returns the registered fusion rules.
func Fusions() []Fusion { return append([]Fusion(nil), fusions...) }

// A Pattern is a rule replacing a small subgraph of elementwise nodes that
// computes a function of one value x, with constants of one element, by
// one op reading x alone: GELU as exported before opset 20 (Div, Erf, Add,
// two Muls) keeps one tensor for its backward pass instead of two. Steps
// list the subgraph's nodes in an order data can flow; the last step's
// output is the pattern's. The executor replaces every match, before it
// applies the pairwise Fusions, where the output of each step but the last
// is read by the match's steps alone and nothing but constants and x
// enters it; the fused node's type is the pattern's Name.
type Pattern struct {
	Name  string // says what the subgraph computes; the fused node's type
	Steps []Step
	// Op returns the op computing the whole from the constants the match
	// read, in the order the steps name them, or ok false where their
	// values do not fit.
	Op func(consts []float32) (fused Op, ok bool)
}

// A Step is one node of a Pattern: its operator type and what each of its
// inputs must be. Commutes lets a two-input step read them in either
// order (Add, Mul).
type Step struct {
	Type     string
	In       []Operand
	Commutes bool
}

// An Operand is what a step reads: the pattern's input x (X), the output
// of an earlier step (Out) or a constant (Const).
type Operand struct {
	step  int                // index of the step whose output this is; -1 for x, -2 for a constant
	value func(float32) bool // a constant's test
}

// X is the pattern's input.
var X = Operand{step: -1}

// Out is the output of step k.
func Out(k int) Operand { return Operand{step: k} }

// Const is a constant of one element, not a trained parameter, whose rank
// does not exceed x's (so it does not change the output's shape) and whose
// value ok accepts.
func Const(ok func(float32) bool) Operand { return Operand{step: -2, value: ok} }

// Input reports whether o is the pattern's input x.
func (o Operand) Input() bool { return o.step == -1 }

// Step returns the step whose output o is; ok is false for x and constants.
func (o Operand) Step() (k int, ok bool) { return o.step, o.step >= 0 }

// Constant reports whether o is a constant.
func (o Operand) Constant() bool { return o.step == -2 }

// Accepts reports whether o is a constant that may hold v.
func (o Operand) Accepts(v float32) bool { return o.step == -2 && o.value(v) }

var patterns []Pattern

// registerPattern adds a rule; called from init functions.
func registerPattern(p Pattern) { patterns = append(patterns, p) }

// Patterns returns the registered pattern rules.
func Patterns() []Pattern { return append([]Pattern(nil), patterns...) }
