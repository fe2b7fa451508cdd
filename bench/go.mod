module github.com/edgekit/edgekit/bench

go 1.25.0

replace github.com/edgekit/edgekit => ../
