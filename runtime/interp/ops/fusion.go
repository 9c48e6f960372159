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
