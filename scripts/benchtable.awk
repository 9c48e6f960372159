# benchtable.awk turns the output of `go test -bench` on runtime/interp and
# runtime/interp/ops into Markdown tables: the interpreter beside ONNX
# Runtime per model, path and batch, and the matrix multiply's GFLOP/s.
# Failures, skips and their messages pass through, and a failure makes the
# exit status 1, so `make bench` fails with the tests.

/^blas: / { blas = $2 }
/^cpu: / { sub(/^cpu: /, ""); cpu = $0 }

# BenchmarkCIFARFGSM128-2  3  ns  ns/op  v interp-img/s  v interp/ort  v ort-img/s
/^Benchmark(MNIST|CIFAR)[A-Za-z]+[0-9]+(-[0-9]+)? / {
	name = $1
	sub(/^Benchmark/, "", name)
	sub(/-[0-9]+$/, "", name)
	model = tolower(substr(name, 1, 5))
	match(name, /[0-9]+$/)
	batch = substr(name, RSTART)
	path = tolower(substr(name, 6, RSTART - 6))
	delete v
	for (i = 3; i < NF; i += 2)
		v[$(i + 1)] = $i
	models[++n] = sprintf("| %s | %s | %s | %.0f | %.0f | %.3f |", model, path, batch, v["interp-img/s"], v["ort-img/s"], v["interp/ort"])
	next
}

/^Benchmark(Sgemm|Gemm|DirectConv)/ {
	name = $1
	sub(/^Benchmark/, "", name)
	sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2)
		if ($(i + 1) == "GFLOP/s")
			gemms[++m] = sprintf("| %s | %.1f |", name, $i)
	next
}

/^(--- (FAIL|SKIP)|FAIL|panic:)/ { shown = 1; print; if ($0 !~ /SKIP/) failed = 1; next }
shown && /^[ \t]/ { print; next }
{ shown = 0 }

END {
	if (n > 0) {
		printf "\nBLAS %s, %s\n\n", blas, cpu
		print "| model | path | batch | interp img/s | ORT img/s | interp/ORT |"
		print "|---|---|---|---:|---:|---:|"
		for (i = 1; i <= n; i++)
			print models[i]
	}
	if (m > 0) {
		printf "\nMatrix multiply, %s\n\n", cpu
		print "| product | GFLOP/s |"
		print "|---|---:|"
		for (i = 1; i <= m; i++)
			print gemms[i]
	}
	exit failed
}
