// Command papertable prints the seed paper's Fashion-MNIST figures beside
// the audits that scripts/paper.sh ran, as a Markdown table.
//
//	go run ./scripts/papertable clean=work/audit-clean paper=work/audit-paper ...
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// paperFigures are the seed paper's (arXiv 2502.05203) Fashion-MNIST clean
// accuracies: the baseline CNN and the same CNN after adversarial training.
var paperFigures = map[string]string{"clean": "87.27%", "paper": "81.82%"}

type report struct {
	Samples       int     `json:"samples"`
	CleanAccuracy float64 `json:"clean_accuracy"`
	Results       []struct {
		Attack   string  `json:"attack"`
		Eps      float64 `json:"eps"`
		Accuracy float64 `json:"accuracy"`
	} `json:"results"`
	Ensembles []struct {
		Attack   string  `json:"attack"`
		Eps      float64 `json:"eps"`
		Accuracy float64 `json:"accuracy"`
	} `json:"ensembles"`
}

// trainTime reads the training time paper.sh wrote beside an audit
// (DIR/train_seconds), "–" when there is none.
func trainTime(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "train_seconds"))
	if err != nil {
		return "–"
	}
	var s int
	if _, err := fmt.Sscan(string(b), &s); err != nil {
		return "–"
	}
	return fmt.Sprintf("%d min %d s", s/60, s%60)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: papertable recipe=AUDIT_DIR ...")
		os.Exit(2)
	}
	withPaper := false
	for _, arg := range os.Args[1:] {
		name, _, _ := strings.Cut(arg, "=")
		withPaper = withPaper || paperFigures[name] != ""
	}
	if withPaper {
		fmt.Println("| model | paper: clean accuracy | onnxguard: clean | FGSM | PGD (10 steps) | AutoAttack | training | samples |")
		fmt.Println("|---|--:|--:|--:|--:|--:|--:|--:|")
	} else {
		fmt.Println("| model | clean | FGSM | PGD (10 steps) | AutoAttack | training | samples |")
		fmt.Println("|---|--:|--:|--:|--:|--:|--:|")
	}
	for _, arg := range os.Args[1:] {
		name, dir, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "papertable: %q: want recipe=AUDIT_DIR\n", arg)
			os.Exit(2)
		}
		data, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "papertable:", err)
			os.Exit(1)
		}
		var r report
		if err := json.Unmarshal(data, &r); err != nil {
			fmt.Fprintf(os.Stderr, "papertable: %s: %v\n", dir, err)
			os.Exit(1)
		}
		// Each attack at the largest ε audited.
		acc, top := map[string]string{}, map[string]float64{}
		for _, res := range r.Results {
			if res.Eps >= top[res.Attack] {
				top[res.Attack] = res.Eps
				acc[res.Attack] = fmt.Sprintf("%.2f%% at ε=%g", 100*res.Accuracy, res.Eps)
			}
		}
		// The ensemble (autoattack, or the stages audited) at the largest ε.
		aa, aaTop := "–", 0.0
		for _, e := range r.Ensembles {
			if e.Eps >= aaTop {
				aaTop, aa = e.Eps, fmt.Sprintf("%.2f%% at ε=%g", 100*e.Accuracy, e.Eps)
				if e.Attack != "autoattack" {
					aa += " (" + e.Attack + ")"
				}
			}
		}
		paper := paperFigures[name]
		if paper == "" {
			paper = "–"
		}
		label := map[string]string{"clean": "baseline (clean training)", "paper": "adversarial training, paper recipe",
			"before": "original model", "after": "hardened (paper recipe), exported"}[name]
		if label == "" {
			label = "adversarial training, " + name
		}
		if withPaper {
			fmt.Printf("| %s | %s ", label, paper)
		} else {
			fmt.Printf("| %s ", label)
		}
		fmt.Printf("| %.2f%% | %s | %s | %s | %s | %d |\n", 100*r.CleanAccuracy, acc["fgsm"], acc["pgd"], aa, trainTime(dir), r.Samples)
	}
}
