package ctcheck

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints one line per result: target, implementation, eviction,
// measurements per class, max |t| and the crop that gave it, uncropped mean
// times (noisy: the t-test, not the means, is the verdict), and "ok" or
// "LEAK".
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\timpl\tevict\tn class 0\tn class 1\tmax |t|\tcrop\tmean ns 0\tmean ns 1\tverdict\t")
	for _, r := range results {
		verdict := "ok"
		if r.Leak {
			verdict = "LEAK"
		}
		fmt.Fprintf(tw, "%s\t%s\t%t\t%d\t%d\t%.2f\t%s\t%.0f\t%.0f\t%s\t\n",
			r.Target, r.Impl, r.Evict, r.N[0], r.N[1], r.MaxT, r.Crop, r.MeanNs[0], r.MeanNs[1], verdict)
	}
	return tw.Flush()
}
