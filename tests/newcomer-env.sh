# newcomer-env.sh, sourced: the environment of a newcomer at a fresh shell. The tests that
# follow a page in a scratch copy (newcomer.sh, follow-adding-a-runner.sh) drop what the
# calling make and test harness set: every PARLAB* variable (PARLAB names the binary under
# test, a relative path that the scratch copy does not have), make's own (SAN, BUILD, its
# jobserver) and COMPARE's.
for _v in $(compgen -e); do
  case $_v in
    PARLAB*|SAN|BUILD|MAKEFLAGS|MFLAGS|MAKELEVEL|COMPARE_DIR) unset "$_v" ;;
  esac
done
unset _v
