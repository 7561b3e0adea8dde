#!/usr/bin/perl
# Print a Markdown table of the samples in a file: median, spread and the
# ratio of each median to the baseline's, measured in the same run.
#
#   report.pl [--unit ms] [--baseline LABEL] [--computed 'LABEL|MEDIAN|NOTE']... FILE
use strict;
use warnings;
use Getopt::Long;
use Bench;

my ($unit, $baseline, @computed) = ('ms');
GetOptions('unit=s' => \$unit, 'baseline=s' => \$baseline,
	'computed=s' => \@computed) or die "usage";
my $file = shift or die "usage: report.pl [options] FILE";
my ($labels, $values) = read_samples($file);
$baseline //= $labels->[0];

my $fmt = sub {
	my $v = shift;
	return sprintf('%.0f', $v) if $v >= 1000;
	return sprintf('%.1f', $v) if $v >= 10;
	return sprintf('%.2f', $v);
};
my $base = exists $values->{$baseline} ? summary(@{ $values->{$baseline} })->{median} : undef;
my $ratio = sub {
	my $m = shift;
	return 'n/a' unless defined $base && $base > 0;
	my $r = $m / $base;
	return $r >= 100 ? sprintf('%.0fx', $r) : $r >= 10 ? sprintf('%.1fx', $r) : sprintf('%.2fx', $r);
};

print "| method | n | median ($unit) | p10–p90 ($unit) | min–max ($unit) | ratio to $baseline |\n";
print "|---|---:|---:|---:|---:|---:|\n";
foreach my $label (@$labels)
{
	my $s = summary(@{ $values->{$label} });
	printf "| %s | %d | %s | %s–%s | %s–%s | %s |\n", $label, $s->{n},
	  $fmt->($s->{median}), $fmt->($s->{p10}), $fmt->($s->{p90}),
	  $fmt->($s->{min}), $fmt->($s->{max}), $ratio->($s->{median});
}
foreach my $c (@computed)
{
	my ($label, $median, $note) = split /\|/, $c, 3;
	printf "| %s | – | %s | %s | – | %s |\n", $label, $fmt->($median),
	  $note // 'computed, not measured', $ratio->($median);
}
