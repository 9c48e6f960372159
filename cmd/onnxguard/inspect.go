package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

var inspectCommand = &cli.Command{
	Name:  "inspect",
	Usage: "describe a model: inputs, outputs, opset, parameters, operators",
	Description: `Reads an ONNX file and prints its interface and contents, whether
onnxguard's interpreter can run and differentiate it (needed for attacks and hardening),
and so which audit it can get: full, or black-box only (Square on ONNX Runtime).

Examples:
   onnxguard inspect --model testdata/models/fmnist_cnn.onnx
   onnxguard inspect --model model.onnx --json | jq .ops`,
	Flags:  append(append([]cli.Flag{}, modelFlags...), &cli.BoolFlag{Name: "json", Usage: "print one JSON object"}),
	Before: requireFlags("model"),
	Action: func(c *cli.Context) error {
		budget, err := maxMemory(c)
		if err != nil {
			return err
		}
		info, err := inspectModel(c.String("model"), interpOptions(interp.Options{MaxMemory: budget}))
		if err != nil {
			return err
		}
		if c.Bool("json") {
			enc := json.NewEncoder(c.App.Writer)
			enc.SetIndent("", "  ")
			return enc.Encode(info)
		}
		printInspect(c.App.Writer, info)
		return nil
	},
}

// modelInfo is inspect's report.
type modelInfo struct {
	Path         string         `json:"path"`
	SHA256       string         `json:"sha256"`
	IRVersion    int64          `json:"ir_version"`
	Opset        int64          `json:"opset"`
	Producer     string         `json:"producer"`
	Inputs       []tensorInfo   `json:"inputs"`
	Outputs      []tensorInfo   `json:"outputs"`
	Parameters   int64          `json:"parameters"`
	Nodes        int            `json:"nodes"`
	Ops          map[string]int `json:"ops"`
	Unsupported  []string       `json:"interpreter_unsupported_ops"`
	NoGradient   []string       `json:"interpreter_gradient_free_ops"`
	Estimated    []string       `json:"interpreter_straight_through_ops"` // gradients are straight-through estimates
	Interpreter  bool           `json:"interpreter_ok"`
	InterpReason string         `json:"interpreter_error,omitempty"`
	// Audit says which audit the model can get: "full" (gradient and
	// black-box attacks) or "black-box" (Square on ONNX Runtime alone).
	Audit   string `json:"audit"`
	Kernels string `json:"interpreter_kernels"` // this machine's: ops.Kernels
	BLAS    string `json:"interpreter_blas"`
}

type tensorInfo struct {
	Name  string   `json:"name"`
	Type  string   `json:"type"`
	Shape []string `json:"shape"`
	// Layout is what --layout auto takes an image input for, NCHW or NHWC.
	Layout string `json:"layout,omitempty"`
}

// inspectModel describes the model at path. A malformed model, or one
// past the memory budget, is an error; one the interpreter merely does not
// implement is described, with the reason.
func inspectModel(path string, opt *interp.Options) (*modelInfo, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	g, err := m.Graph()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	prog, err := interp.Preflight(m, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	digest, err := m.SHA256()
	if err != nil {
		return nil, err
	}
	info := &modelInfo{Path: path, SHA256: digest, IRVersion: m.Proto.GetIrVersion(), Opset: g.Opset,
		Producer:   strings.TrimSpace(m.Proto.GetProducerName() + " " + m.Proto.GetProducerVersion()),
		Parameters: g.ParamCount(), Nodes: len(g.Nodes), Ops: g.OpHistogram(), Unsupported: []string{}, NoGradient: []string{}, Estimated: []string{},
		Kernels: interp.Kernels(opt), BLAS: ops.BLAS()}
	for _, v := range g.Inputs {
		in := describe(v)
		if len(v.Shape) == 4 {
			in.Layout = dataset.DetectLayout(v.Shape).String()
		}
		info.Inputs = append(info.Inputs, in)
	}
	for _, v := range g.Outputs {
		info.Outputs = append(info.Outputs, describe(v))
	}
	// Every operator the interpreter lacks, each once with the opset that
	// decides, so a user sees all that is missing at once.
	missing := map[string]bool{}
	for _, n := range g.Nodes {
		if d := ops.Missing(n, g.Opset); d != "" && !missing[d] {
			missing[d] = true
			info.Unsupported = append(info.Unsupported, d)
		}
	}
	for op := range info.Ops {
		if ops.Supported(op, g.Opset) && !ops.Differentiable(op) {
			info.NoGradient = append(info.NoGradient, op)
		}
		if ops.Supported(op, g.Opset) && ops.StraightThrough(op) {
			info.Estimated = append(info.Estimated, op)
		}
	}
	sort.Strings(info.Estimated)
	sort.Strings(info.Unsupported)
	sort.Strings(info.NoGradient)
	// Preflight compiled the model where the interpreter runs all of it;
	// otherwise compiling says why not, failing at the first node it lacks.
	if prog == nil {
		_, err = interp.Compile(m, opt)
	}
	if prog == nil && err != nil {
		info.InterpReason = err.Error()
		info.Audit = "black-box"
	} else {
		info.Interpreter = true
		info.Audit = "full"
	}
	return info, nil
}

func describe(v onnx.ValueInfo) tensorInfo {
	t := tensorInfo{Name: v.Name, Type: strings.ToLower(v.ElemType.String())}
	for i, d := range v.Shape {
		switch {
		case d > 0:
			t.Shape = append(t.Shape, fmt.Sprint(d))
		case v.DimNames[i] != "":
			t.Shape = append(t.Shape, v.DimNames[i])
		default:
			t.Shape = append(t.Shape, "?")
		}
	}
	return t
}

func printInspect(w interface{ Write([]byte) (int, error) }, info *modelInfo) {
	fmt.Fprintf(w, "model       %s\n", info.Path)
	fmt.Fprintf(w, "sha256      %s\n", info.SHA256)
	fmt.Fprintf(w, "producer    %s (IR version %d, opset %d)\n", info.Producer, info.IRVersion, info.Opset)
	for _, in := range info.Inputs {
		layout := ""
		if in.Layout != "" {
			layout = " (layout " + in.Layout + "; --layout overrides)"
		}
		fmt.Fprintf(w, "input       %s %s [%s]%s\n", in.Name, in.Type, strings.Join(in.Shape, " × "), layout)
	}
	for _, out := range info.Outputs {
		fmt.Fprintf(w, "output      %s %s [%s]\n", out.Name, out.Type, strings.Join(out.Shape, " × "))
	}
	fmt.Fprintf(w, "parameters  %d\n", info.Parameters)
	names := make([]string, 0, len(info.Ops))
	for op := range info.Ops {
		names = append(names, op)
	}
	sort.Slice(names, func(i, j int) bool {
		if info.Ops[names[i]] != info.Ops[names[j]] {
			return info.Ops[names[i]] > info.Ops[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, op := range names {
		parts[i] = fmt.Sprintf("%s×%d", op, info.Ops[op])
	}
	fmt.Fprintf(w, "nodes       %d: %s\n", info.Nodes, strings.Join(parts, ", "))
	if info.Interpreter {
		fmt.Fprintf(w, "interpreter ok: every operator runs; gradients flow through all but shape/index ops")
		if len(info.NoGradient) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(info.NoGradient, ", "))
		}
		fmt.Fprintf(w, "; attacks and hardening available\n")
		if len(info.Estimated) > 0 {
			fmt.Fprintf(w, "gradients   straight-through estimates through the quantization (%s): identity inside the representable range, zero where a value saturates\n",
				strings.Join(info.Estimated, ", "))
		}
	} else {
		if len(info.Unsupported) > 0 {
			fmt.Fprintf(w, "interpreter lacks %s\n", strings.Join(info.Unsupported, ", "))
		}
		fmt.Fprintf(w, "interpreter cannot run this model: %s\n", firstLine(info.InterpReason))
	}
	if info.Audit == "full" {
		fmt.Fprintf(w, "audit       full: gradient attacks (fgsm, pgd, autoattack) and the black-box square\n")
	} else {
		fmt.Fprintf(w, "audit       black-box only: square on ONNX Runtime (audit --attacks square); no gradient attack can run\n")
	}
	kernels := map[string]string{
		"avx512f": "AVX-512F vector kernels",
		"go":      "the vector kernels' pure-Go twins (ONNXGUARD_KERNELS=on without AVX-512F)",
		"off":     "vector kernels off (ONNXGUARD_KERNELS=off)",
		"none":    "no vector kernels (they need amd64 with AVX-512F): im2col and the matrix multiply",
	}[info.Kernels]
	fmt.Fprintf(w, "speed       %s; matrix multiply on %s\n", kernels, info.BLAS)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " (and more)"
	}
	return s
}
