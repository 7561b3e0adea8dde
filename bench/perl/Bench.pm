# Timing and statistics shared by the benchmark scripts in bench/perl.
package Bench;

use strict;
use warnings;
use Exporter 'import';
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

our @EXPORT = qw(now_ms summary append_samples read_samples connect_db);

# Monotonic clock, in milliseconds.
sub now_ms
{
	return clock_gettime(CLOCK_MONOTONIC) * 1000.0;
}

# Percentile by linear interpolation between the closest ranks.
sub percentile
{
	my ($sorted, $p) = @_;
	my $n = scalar @$sorted;
	return $sorted->[0] if $n == 1;
	my $rank = $p * ($n - 1);
	my $lo = int($rank);
	my $hi = $lo + 1 < $n ? $lo + 1 : $lo;
	return $sorted->[$lo] + ($rank - $lo) * ($sorted->[$hi] - $sorted->[$lo]);
}

sub summary
{
	my @s = sort { $a <=> $b } @_;
	return undef unless @s;
	return {
		n => scalar @s,
		median => percentile(\@s, 0.5),
		p10 => percentile(\@s, 0.1),
		p90 => percentile(\@s, 0.9),
		min => $s[0],
		max => $s[-1],
	};
}

# Samples are kept one per line, "LABEL<TAB>VALUE", in a file per benchmark.
sub append_samples
{
	my ($file, $label, @values) = @_;
	open(my $fh, '>>', $file) or die "could not open \"$file\": $!";
	printf $fh "%s\t%.4f\n", $label, $_ foreach @values;
	close($fh);
}

# Returns (\@labels in order of first appearance, \%values by label).
sub read_samples
{
	my ($file) = @_;
	my (@labels, %values);
	open(my $fh, '<', $file) or die "could not open \"$file\": $!";
	while (my $line = <$fh>)
	{
		chomp $line;
		my ($label, $value) = split /\t/, $line;
		push @labels, $label unless exists $values{$label};
		push @{ $values{$label} }, $value;
	}
	close($fh);
	return (\@labels, \%values);
}

# A DBD::Pg connection to the server on a Unix socket; errors are died on
# only where the caller asks (RaiseError), never printed.
sub connect_db
{
	my ($sockdir, $port, %opt) = @_;
	require DBI;
	my $dbh = DBI->connect("dbi:Pg:host=$sockdir;port=$port;dbname=postgres",
		'postgres', '',
		{ AutoCommit => 1, RaiseError => 1, PrintError => 0, %opt });
	return $dbh;
}

1;
