package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/fgsm/report"
)

var compareCommand = &cli.Command{
	Name:      "compare",
	Usage:     "set two audits side by side, e.g. a model before and after hardening",
	ArgsUsage: "BEFORE AFTER",
	Description: `Reads the report.json of two audits (folders holding it, or the files) and shows
both models side by side: clean accuracy, accuracy under every attack and ε, the
worst of each, per class, and the change in percentage points. Attacks are
matched by their whole configuration; one audited on one side only shows '–' on
the other. It warns when the audits ran on different data, samples, seeds or
preprocessing, since their numbers are then not comparable.

--out DIR writes comparison.json, report.md (plain GitHub-flavoured Markdown,
fit for a job summary) and report.html (one self-contained page).
--fail-under and --junit gate the AFTER model, as audit does.

Examples:
   onnxguard report compare demo/audit-before demo/audit-after
   onnxguard report compare demo/audit-before demo/audit-after --out demo/compare
   onnxguard report compare base/report.json robust/report.json --json --fail-under 40% --junit gate.xml`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write comparison.json, report.md and report.html into `DIR`"},
		&cli.StringFlag{Name: "fail-under", Usage: "exit with status 3 when the AFTER model's worst accuracy is below `ACC` (0.4 or 40%)"},
		junitFlag,
		&cli.BoolFlag{Name: "json", Usage: "print the comparison object to stdout"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() != 2 {
			return fmt.Errorf("report compare takes two audits, BEFORE and AFTER (folders holding report.json, or the files); got %d", c.NArg())
		}
		gate, err := parseGate(c.String("fail-under"))
		if err != nil {
			return err
		}
		var rs [2]*fgsm.Report
		for i, arg := range c.Args().Slice() {
			if rs[i], err = readReport(arg); err != nil {
				return err
			}
		}
		cmp, err := fgsm.Compare(rs[0], rs[1])
		if err != nil {
			return err
		}
		if dir := c.String("out"); dir != "" {
			if err := report.WriteCompareDir(dir, cmp); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "wrote the comparison to %s\n", dir)
		}
		if err := writeJUnit(c, rs[1], gate); err != nil {
			return err
		}
		if c.Bool("json") {
			if err := json.NewEncoder(c.App.Writer).Encode(cmp); err != nil {
				return err
			}
		} else if err := report.CompareText(c.App.Writer, cmp); err != nil {
			return err
		}
		for _, w := range cmp.Warnings {
			fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
		}
		return gateReport(rs[1], gate)
	},
}
