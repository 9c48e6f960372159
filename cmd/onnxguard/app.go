package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newApp() *cli.App {
	app := &cli.App{
		Name:    "onnxguard",
		Usage:   "audit and harden ONNX image classifiers against adversarial examples",
		Version: version,
		Description: `onnxguard takes a CNN exported to ONNX by any framework, runs it on ONNX Runtime,
computes input gradients with its own differentiable interpreter, attacks it, and
fine-tunes it to be robust. Data is read as pixels in [0,1]; --input-scale, --mean
and --std describe the preprocessing the model expects.`,
		Commands: []*cli.Command{
			inspectCommand,
			evalCommand,
			predictCommand,
			attackCommand,
			auditCommand,
			reportCommand,
			hardenCommand,
			exportCommand,
			initCommand,
			gradgraphCommand,
		},
		// Without a command: the help. With an unknown one: an error, not
		// urfave/cli's help lookup, which exits with status 3, the status
		// of a failed --fail-under gate.
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("unknown command %q; 'onnxguard help' lists the commands", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		// Errors go back to main, which prints them as one line and picks
		// the exit status; urfave/cli would otherwise exit on its own.
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError:         oneLineUsageError,
		EnableBashCompletion: true,
	}
	for _, cmd := range app.Commands {
		setUsageErrors(cmd)
	}
	return app
}

// setUsageErrors makes cmd and its subcommands report a bad flag as one
// line, instead of "Incorrect Usage" and the whole help on stdout. The
// commands are package variables, which urfave/cli extends with its help
// command once run: that one (its own subcommand) is left alone.
func setUsageErrors(cmd *cli.Command) {
	if cmd.Name == "help" {
		return
	}
	cmd.OnUsageError = oneLineUsageError
	for _, sub := range cmd.Subcommands {
		setUsageErrors(sub)
	}
}

func oneLineUsageError(c *cli.Context, err error, _ bool) error {
	name := "onnxguard"
	if c.Command != nil && c.Command.FullName() != "" && c.Command.FullName() != c.App.Name {
		name += " " + c.Command.FullName()
	}
	return usageErrorf("%v; '%s --help' lists the flags", err, name)
}

// requireFlags is the Before of a command whose flags names must be given:
// urfave/cli's own check prints the whole help on stdout.
func requireFlags(names ...string) cli.BeforeFunc {
	return func(c *cli.Context) error {
		var missing []string
		for _, n := range names {
			if !c.IsSet(n) {
				missing = append(missing, "--"+n)
			}
		}
		switch len(missing) {
		case 0:
			return nil
		case 1:
			return usageErrorf("%s is required; '%s --help' describes it", missing[0], "onnxguard "+c.Command.FullName())
		}
		return usageErrorf("%s are required; '%s --help' describes them", strings.Join(missing, ", "), "onnxguard "+c.Command.FullName())
	}
}

// exitError carries a specific exit status (a failed robustness gate, say).
type exitError struct {
	err  error
	code int
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitUsage is the status of a command line that names an unknown command
// or flag, or misses a required one.
const exitUsage = 2

func usageErrorf(format string, a ...any) error {
	return &exitError{fmt.Errorf(format, a...), exitUsage}
}

// exitCode is 0 for nil, an exitError's code, and 1 for any other error
// (urfave/cli's own exit codes included: its 3 is not a failed gate).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce cli.ExitCoder // urfave/cli's own: "No help topic for 'x'"
	if errors.As(err, &ce) {
		return exitUsage
	}
	return 1
}

// runMain runs the command line args (args[0] the program name) with the
// given outputs and returns the exit status; an error is one line on
// stderr.
func runMain(args []string, stdout, stderr io.Writer) int {
	app := newApp()
	app.Writer, app.ErrWriter = stdout, stderr
	err := app.Run(flagsFirst(app, args))
	if err != nil {
		msg := strings.Join(strings.Fields(strings.ReplaceAll(withFlagHints(err).Error(), "\n", "; ")), " ")
		fmt.Fprintf(stderr, "onnxguard: %s\n", msg)
	}
	return exitCode(err)
}
