from kneesource.cli import main

raise SystemExit(main())
