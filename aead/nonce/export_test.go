package nonce

// CounterRisk exposes the Counter bound for small prefixes, for the
// Monte-Carlo test of the model.
var CounterRisk = counterRisk
