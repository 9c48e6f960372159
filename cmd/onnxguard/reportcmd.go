package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/fgsm/report"
)

var reportCommand = &cli.Command{
	Name:  "report",
	Usage: "work with audit reports",
	Action: func(c *cli.Context) error {
		if c.Args().Present() {
			return usageErrorf("unknown command %q of report; 'onnxguard report --help' lists them", c.Args().First())
		}
		return cli.ShowSubcommandHelp(c)
	},
	Subcommands: []*cli.Command{{
		Name:      "merge",
		Usage:     "combine the reports of audit shards into one",
		ArgsUsage: "DIR|report.json ...",
		Description: `Reads the report.json of every shard of an audit run with --shard K/N and
writes the report of the whole data, exactly as one run would have given it:
counts add up, maxima take the larger, rates are derived again. Reports of a
different model, seed, preprocessing or attack list are refused, as are
overlapping shards; missing shards give a warning.

Examples:
   onnxguard report merge shard1/ shard2/ shard3/ --out audit/
   onnxguard report merge results/*/report.json --json --fail-under 40% --junit robustness.xml`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the merged report.json, report.md, report.html and robustness.png into `DIR`"},
			&cli.StringFlag{Name: "fail-under", Usage: "exit with status 3 when the worst accuracy is below `ACC` (0.4 or 40%)"},
			&cli.BoolFlag{Name: "json", Usage: "print the merged report object to stdout"},
			junitFlag,
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageErrorf("name the shard reports to merge: folders holding report.json, or the files")
			}
			gate, err := parseGate(c.String("fail-under"))
			if err != nil {
				return err
			}
			var inputs []input
			for _, arg := range c.Args().Slice() {
				inputs = append(inputs, input{"report", arg})
			}
			if err := checkOutDir("out", c.String("out"), inputs...); err != nil {
				return err
			}
			var reports []*fgsm.Report
			for _, arg := range c.Args().Slice() {
				r, err := readReport(arg)
				if err != nil {
					return err
				}
				reports = append(reports, r)
			}
			m, err := fgsm.Merge(reports)
			if err != nil {
				return err
			}
			if dir := c.String("out"); dir != "" {
				if err := writeReport(dir, m); err != nil {
					return err
				}
				fmt.Fprintf(c.App.ErrWriter, "wrote the merged report of %d shards to %s\n", len(reports), dir)
			}
			if err := writeJUnit(c, m, gate); err != nil {
				return err
			}
			return showReport(c, m, c.Bool("json"), gate)
		},
	}, compareCommand},
}

// readReport reads report.json from a folder or a file.
func readReport(path string) (*fgsm.Report, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, report.JSONFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r fgsm.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not an onnxguard report: %w", path, err)
	}
	if r.Version == 1 {
		r.Version = fgsm.ReportVersion // version 2 only added fields
	}
	if r.Version != fgsm.ReportVersion || len(r.Shards) == 0 {
		return nil, fmt.Errorf("%s: not an onnxguard audit report of format version %d", path, fgsm.ReportVersion)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%s: impossible report: %w", path, err)
	}
	return &r, nil
}

// writeReport writes report.json, report.md and the pictures into dir.
func writeReport(dir string, r *fgsm.Report) error {
	return report.WriteDir(dir, r)
}
