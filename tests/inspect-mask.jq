# Mask what differs between builds and hosts in `mkvmimg inspect --json`
# output: UUIDs, kernel releases, space used, file sizes.  With
# $loose == "1", sizes the build computes from the content too.
walk(if type == "string" then
       gsub("[0-9]+\\.[0-9]+\\.[0-9]+-[0-9]+-[a-z0-9]+"; "REL")
       | gsub("UUID=[-0-9a-fA-F]+"; "UUID=X")
     elif type == "object" then
       with_entries(
         if (.key == "uuid" or .key == "release") and .value != null then
           .value = "X"
         elif .key == "used" or .key == "free" or .key == "allocated" then
           .value = "N"
         elif (.key == "name" or .key == "path" or .key == "kernel" or
               .key == "initrd") and (.value | type) == "string" then
           .value |= sub("^.*/"; "")
         else . end)
     else . end)
| if .system then
    .system.kernels[].size = "N" | .system.initrds[].size = "N"
  else . end
| if .bootloader.efi then .bootloader.efi.size = "N" else . end
| .partitions[] |= (if .filesystem then .filesystem.size = "N" else . end)
| if $loose == "1" then
    .image.virtual_size = "N"
    | .partitions[] |= (.start = "N" | .size = "N")
  else . end
