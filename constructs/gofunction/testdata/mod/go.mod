module example.com/gofntest

go 1.27
