set terminal pngcairo noenhanced size 900,560 font 'sans,11'
set output 'docs/alpha_sweep.png.tmp'
set title 'ZeroLM on flexibert_glue.csv: Kendall tau against glue as alpha varies'
set xlabel 'alpha (weight of attention; 1 - alpha on feed-forward)'
set ylabel 'Kendall tau'
set grid
set key bottom right
set xrange [-1.5:1.5]
plot 'docs/alpha_sweep.png.dat' index 0 using 1:2 with lines lw 2 title 'compat', 'docs/alpha_sweep.png.dat' index 1 using 1:2 with lines lw 2 title 'trained', 'docs/alpha_sweep.png.dat' index 2 using 1:2 with lines lw 2 title 'spec'
