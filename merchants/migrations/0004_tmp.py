# An empty step kept because other apps' migrations were generated against this node name.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("merchants", "0003_merchant_activated_at_merchant_approved_at_and_more")]
    operations = []
