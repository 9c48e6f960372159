package fgsm

import "fmt"

// The Difference of Logits Ratio losses of Croce & Hein (ICML 2020). They
// are margins divided by a spread of the top logits, so they do not change
// when the logits are scaled or shifted: a model cannot hide behind large
// logits or a saturated softmax, as it can from cross-entropy.

// dlrEps keeps the denominators away from zero when the top logits tie.
const dlrEps = 1e-12

// top4 returns the indices of the four largest values of row, largest
// first (fewer when the row is shorter); ties go to the lower index.
func top4(row []float32) (top [4]int, n int) {
	for i, v := range row {
		p := n
		for p > 0 && row[top[p-1]] < v {
			p--
		}
		if p >= 4 {
			continue
		}
		if n < 4 {
			n++
		}
		copy(top[p+1:n], top[p:n-1])
		top[p] = i
	}
	return top, n
}

// dlrLoss is the untargeted DLR loss of one row of logits,
//
//	−(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 1e-12),
//
// π sorting the logits in decreasing order. It writes its gradient with
// respect to the row into d (zeroed beforehand) and needs three classes.
func dlrLoss(d, row []float32, y int) float64 {
	top, _ := top4(row)
	m := top[0] // the largest logit other than y's
	if m == y {
		m = top[1]
	}
	num := float64(row[y]) - float64(row[m])
	den := float64(row[top[0]]) - float64(row[top[2]]) + dlrEps
	// L = −num/den: dL = −dnum/den + num·dden/den².
	a, b := -1/den, num/(den*den)
	d[y] += float32(a)
	d[m] -= float32(a)
	d[top[0]] += float32(b)
	d[top[2]] -= float32(b)
	return -num / den
}

// dlrTargetedLoss is the targeted DLR loss of one row of logits toward
// class t,
//
//	−(z_y − z_t) / (z_π1 − ½(z_π3 + z_π4) + 1e-12),
//
// with its gradient in d (zeroed beforehand); it needs four classes.
func dlrTargetedLoss(d, row []float32, y, t int) float64 {
	top, _ := top4(row)
	num := float64(row[y]) - float64(row[t])
	den := float64(row[top[0]]) - 0.5*(float64(row[top[2]])+float64(row[top[3]])) + dlrEps
	a, b := -1/den, num/(den*den)
	d[y] += float32(a)
	d[t] -= float32(a)
	d[top[0]] += float32(b)
	d[top[2]] -= float32(0.5 * b)
	d[top[3]] -= float32(0.5 * b)
	return -num / den
}

// needClasses says whether a loss can be computed with k classes.
func needClasses(loss string, k int) error {
	switch {
	case loss == "dlr" && k < 3:
		return fmt.Errorf("the DLR loss needs at least 3 classes; the model scores %d: use apgd-ce", k)
	case loss == "dlr-t" && k < 4:
		return fmt.Errorf("the targeted DLR loss needs at least 4 classes; the model scores %d: use apgd-ce", k)
	}
	return nil
}
