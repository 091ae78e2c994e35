set terminal pngcairo noenhanced size 1040,640 font 'sans,11'
set output 'docs/prune-picks.png.tmp'
set multiplot layout 1,2 title 'Healed loss of each method pick against kept parameters'
set title 'seed 1'
set xlabel 'kept parameters (millions)'
set ylabel 'validation loss after healing'
set grid
set key below
set yrange [:4.9006]
plot 'docs/prune-picks.png.dat' index 0 using 1:2 with points pt 7 ps 0.6 lc rgb '#999999' title 'sampled', 'docs/prune-picks.png.dat' index 1 using 1:2 with points pt 7 ps 1.6 title '(a) ZeroLM msv', 'docs/prune-picks.png.dat' index 2 using 1:2 with points pt 5 ps 1.6 title '(b) ZeroLM spectral (default)', 'docs/prune-picks.png.dat' index 3 using 1:2 with points pt 9 ps 1.6 title '(c) kept norm (magnitude)', 'docs/prune-picks.png.dat' index 4 using 1:2 with points pt 13 ps 1.6 title '(d) kept parameters', 'docs/prune-picks.png.dat' index 5 using 1:2 with points pt 11 ps 1.6 title '(e) uniform, weight norm', 'docs/prune-picks.png.dat' index 6 using 1:2 with points pt 3 ps 1.6 title '(f) uniform, calibration activations'
set title 'seed 2'
set xlabel 'kept parameters (millions)'
set ylabel 'validation loss after healing'
set grid
set key below
set yrange [:4.8468]
plot 'docs/prune-picks.png.dat' index 7 using 1:2 with points pt 7 ps 0.6 lc rgb '#999999' title 'sampled', 'docs/prune-picks.png.dat' index 8 using 1:2 with points pt 7 ps 1.6 title '(a) ZeroLM msv', 'docs/prune-picks.png.dat' index 9 using 1:2 with points pt 5 ps 1.6 title '(b) ZeroLM spectral (default)', 'docs/prune-picks.png.dat' index 10 using 1:2 with points pt 9 ps 1.6 title '(c) kept norm (magnitude)', 'docs/prune-picks.png.dat' index 11 using 1:2 with points pt 13 ps 1.6 title '(d) kept parameters', 'docs/prune-picks.png.dat' index 12 using 1:2 with points pt 11 ps 1.6 title '(e) uniform, weight norm', 'docs/prune-picks.png.dat' index 13 using 1:2 with points pt 3 ps 1.6 title '(f) uniform, calibration activations'
unset multiplot
