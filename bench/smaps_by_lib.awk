# bench/smaps_by_lib.awk: one daemon's /proc/PID/smaps (bench/run.sh SMAPS_DIR) summed per
# mapping: Rss, Pss, Private (clean + dirty), Private_Dirty, Anonymous in KiB, largest first.
# awk -f bench/smaps_by_lib.awk FILE
/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"; sub(".*/", "", name); next }
/^Rss:/ { rss[name] += $2; trss += $2 }
/^Pss:/ { pss[name] += $2 }
/^Private_(Clean|Dirty):/ { priv[name] += $2 }
/^Private_Dirty:/ { pd[name] += $2 }
/^Anonymous:/ { anon[name] += $2; tanon += $2 }
END {
  for (n in rss) if (rss[n] > 0) printf "%6d %6d %6d %6d %6d %s\n", rss[n], pss[n], priv[n], pd[n], anon[n], n | "sort -rn"
  close("sort -rn")
  printf "%6d total rss, %d anon\n", trss, tanon
}
