package risk

// CounterRisk exposes the Counter bound for small prefixes, for the
// Monte-Carlo test of the model.
var CounterRisk = counterRisk

// NormalQuantile exposes the quantile behind ZFamilyWise.
var NormalQuantile = normalQuantile
