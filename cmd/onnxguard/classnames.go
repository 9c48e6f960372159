package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/fgsm/report"
	"github.com/onnxguard/onnxguard/onnx"
)

// classNamesFlag names the classes in tables and pictures; eval, attack
// and audit take it.
var classNamesFlag = &cli.StringFlag{Name: "class-names", Usage: "class names, one per line or a JSON list, in `FILE` (default: the model's metadata_props " +
	dataset.ClassNamesKey + " or an exporter's names/classes/labels, else the data's folder names)"}

// classNames returns the names of the model's k classes: from
// --class-names, else from the model's metadata, else from the data source
// when it knows them (image folders, CIFAR-10), else nil. Names from a
// file or the model must number k, so a list for another model is caught.
func classNames(c *cli.Context, m *onnx.Model, src dataset.Source, k int) ([]string, error) {
	return resolveClassNames(c.String("class-names"), m, src, k)
}

// resolveClassNames is classNames with the --class-names path given.
func resolveClassNames(path string, m *onnx.Model, src dataset.Source, k int) ([]string, error) {
	check := func(names []string, from string) ([]string, error) {
		if k > 0 && len(names) != k {
			return nil, fmt.Errorf("%s names %d classes but the model scores %d; give one name per output", from, len(names), k)
		}
		return names, nil
	}
	if path != "" {
		names, err := dataset.ReadClassNames(path)
		if err != nil {
			return nil, fmt.Errorf("--class-names: %w", err)
		}
		return check(names, "--class-names "+path)
	}
	md := map[string]string{}
	for _, p := range m.Proto.GetMetadataProps() {
		md[p.GetKey()] = p.GetValue()
	}
	names, key, err := dataset.MetadataClassNames(md)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; give the names with --class-names FILE", m.Path, err)
	}
	if names != nil {
		// An exporter's key may mean something else; a wrong count says so.
		if k > 0 && len(names) != k && key != dataset.ClassNamesKey {
			names = nil
		} else {
			return check(names, fmt.Sprintf("%s metadata_props %q", m.Path, key))
		}
	}
	if cn, ok := src.(dataset.ClassNamer); ok {
		return cn.Classes(), nil
	}
	return nil, nil
}

// printClasses writes per-class accuracy, clean and under the strongest
// attack (the lowest accuracy), named when the report names its classes.
func printClasses(w io.Writer, r *fgsm.Report) {
	strongest := report.StrongestResult(r)
	if strongest == nil || len(r.CleanPerClass) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%-24s %8s %9s  %s\n", "class", "samples", "clean", strongest.Name())
	for i, pc := range r.CleanPerClass {
		if pc.Samples == 0 || i >= len(strongest.PerClass) {
			continue
		}
		fmt.Fprintf(w, "%-24s %8d %8.2f%%  %.2f%%\n", report.ClassName(r.Classes, pc.Class), pc.Samples, 100*pc.Accuracy, 100*strongest.PerClass[i].Accuracy)
	}
}
