package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/fgsm/report"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/onnx"
)

// hardenReportFlag makes harden write its before/after measurements as
// reports.
var hardenReportFlag = &cli.StringFlag{Name: "report", Usage: "write the before/after comparison (comparison.json, report.md, report.html) into `DIR`, and each model's audit report into DIR/before and DIR/after"}

// writeHardenReport writes the audits harden made of the original model
// (before) and the exported file (after) into dir/before and dir/after,
// and their comparison, with the export check, into dir.
func writeHardenReport(hr *hardenRun, dir string, rep *harden.Report) error {
	out := hr.rc.Out
	exported, err := onnx.Load(out)
	if err != nil {
		return err
	}
	exportedSHA256, err := exported.SHA256()
	if err != nil {
		return err
	}
	data := hr.val
	if data == "" {
		data = fmt.Sprintf("%s (held-out validation split %g)", hr.cfg.data, hr.valSplit)
	}
	before, after := rep.Before.Audit, rep.After.Audit
	for _, side := range []struct {
		r         *fgsm.Report
		m         *onnx.Model
		path, sum string
	}{{before, hr.rc.Model, hr.cfg.modelPath, rep.Config.ModelSHA256}, {after, exported, out, exportedSHA256}} {
		if err := describeAudit(side.r, side.m, side.path, side.sum, data, hr.cfg); err != nil {
			return err
		}
		side.r.Classes = rep.ClassNames
	}
	for name, r := range map[string]*fgsm.Report{"before": before, "after": after} {
		if err := report.WriteDir(filepath.Join(dir, name), r); err != nil {
			return err
		}
	}
	cmp, err := fgsm.Compare(before, after)
	if err != nil {
		return err
	}
	cmp.Export = &fgsm.ExportCheck{File: out, MaxRelativeError: rep.MaxRelError, Tolerance: rep.Tolerance}
	return report.WriteCompareDir(dir, cmp)
}

// describeAudit fills in what identifies an audit harden ran itself of m,
// read from path with digest sum.
func describeAudit(r *fgsm.Report, m *onnx.Model, path, sum, data string, cfg *runConfig) error {
	g, err := m.Graph()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r.Data = data
	identify(r, "onnxguard "+version+" harden", reportModel(m, path, sum, g.Inputs[0]), 256, cfg.pre)
	return nil
}
