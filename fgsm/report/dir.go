package report

import (
	"errors"
)

// errNoReport is returned for a nil report, which has nothing to render.
var errNoReport = errors.New("no report to render: the audit produced none")
