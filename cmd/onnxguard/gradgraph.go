package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/gradgraph"
	"github.com/onnxguard/onnxguard/onnx"
)

var gradgraphCommand = &cli.Command{
	Name:  "gradgraph",
	Usage: "write an ONNX graph computing the model's loss and input gradients",
	Description: `Builds one ONNX graph from the model that computes, for a batch of inputs and
int64 class labels (input "labels", shape [N]), the logits, the mean softmax
cross-entropy loss ("loss", shape [1]) and its gradient with respect to the input
("input_grad"); with --weights also the gradient with respect to every float
initializer ("<name>_grad"). With --feed-weights every float initializer is an
input of the graph instead, after the labels, under its own name: a training
loop feeds the current weights on every run, and the file holds no copy of
them. The graph runs on ONNX Runtime's inference builds,
on any execution provider, from any language binding; its gradients match
onnxguard's interpreter (relative error at most 1e-4, except where an
activation lies within float32 rounding of a Relu's or a max pool's kink,
which the two engines may then take on different sides: on deep networks
such as ResNet-50 a few percent at the worst element). The batch stays as the
model declares it. Models need opset 13 or later; an operator without a backward
rule is named in the error.

Operators with a backward rule:
` + wrapWords(strings.Join(gradgraph.Supported(), ", "), 80) + `

Examples:
   onnxguard gradgraph --model model.onnx --out model.grad.onnx
   onnxguard gradgraph --model resnet50.onnx --out resnet50.grad.onnx --weights --json
   onnxguard gradgraph --model vit.onnx --out vit.train.onnx --feed-weights`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "ONNX model `FILE` (required)"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "ONNX `FILE` to write (required)"},
		&cli.BoolFlag{Name: "weights", Usage: "also output the gradient of every float initializer"},
		&cli.BoolFlag{Name: "feed-weights", Usage: "like --weights, and read every float initializer as an input (for training loops)"},
		maxMemoryFlag,
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object to stdout"},
	},
	Before: requireFlags("model", "out"),
	Action: func(c *cli.Context) error {
		cfg, err := readGradgraphConfig(c)
		if err != nil {
			return err
		}
		return runGradgraph(c, cfg)
	},
}

// gradgraphConfig is what gradgraph's flags become.
type gradgraphConfig struct {
	model, out string
	opt        gradgraph.Options
	json       bool
}

func readGradgraphConfig(c *cli.Context) (*gradgraphConfig, error) {
	if err := checkOutFile("out", c.String("out"), false, input{"model", c.String("model")}); err != nil {
		return nil, err
	}
	budget, err := maxMemory(c)
	if err != nil {
		return nil, err
	}
	return &gradgraphConfig{model: c.String("model"), out: c.String("out"), json: c.Bool("json"),
		opt: gradgraph.Options{Weights: c.Bool("weights"), FeedWeights: c.Bool("feed-weights"), MaxMemory: budget}}, nil
}

// runGradgraph loads the model, writes its gradient graph and says what
// the graph reads and writes.
func runGradgraph(c *cli.Context, cfg *gradgraphConfig) error {
	m, err := onnx.Load(cfg.model)
	if err != nil {
		return err
	}
	g, err := gradgraph.Write(cfg.out, m, &cfg.opt)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.model, err)
	}
	summary := struct {
		Model      string   `json:"model"`
		Out        string   `json:"out"`
		Inputs     []string `json:"inputs"`
		Outputs    []string `json:"outputs"`
		Nodes      int      `json:"nodes"`
		FixedBatch int      `json:"fixed_batch,omitempty"`
	}{cfg.model, cfg.out, []string{g.Input, g.Labels}, nil, len(g.Model.Proto.GetGraph().GetNode()), g.Batch}
	if g.Fed {
		summary.Inputs = append(summary.Inputs, g.Params...)
	}
	for _, o := range g.Model.Proto.GetGraph().GetOutput() {
		summary.Outputs = append(summary.Outputs, o.GetName())
	}
	if cfg.json {
		return json.NewEncoder(c.App.Writer).Encode(summary)
	}
	fmt.Fprintf(c.App.Writer, "wrote %s: %d nodes; inputs %q (the model's) and %q (int64 labels); outputs %q (logits), %q, %q",
		cfg.out, summary.Nodes, g.Input, g.Labels, g.Logits, g.Loss, g.InputGrad)
	if n := len(g.ParamGrads); n > 0 {
		fmt.Fprintf(c.App.Writer, " and %d weight gradients", n)
	}
	if g.Fed {
		fmt.Fprintf(c.App.Writer, "; the %d weights are inputs after the labels", len(g.Params))
	}
	fmt.Fprintln(c.App.Writer)
	return nil
}

// wrapWords breaks s into lines of at most width characters at spaces,
// indented as urfave/cli indents a description.
func wrapWords(s string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), "\n")
}
