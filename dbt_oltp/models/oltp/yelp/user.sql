{{
    config(
        unique_key='user_id',
        incremental_strategy='replace_scope',
        indexes=[{'columns': ['last_edited_at']}],
        pre_hook="{{ capture_fold_scope(['reviews'],
                                         snapshot_keys(ref('stg_yelp__reviews'), 'yelp_user_id')) }}",
        post_hook="{{ commit_fold_scope() }}",
    )
}}

-- Reviewers, as their newest review shows them. A user no review mentions any more goes in the
-- run's sweep (after their reviews).

with

latest as (

    {{ newest_snapshots(ref('stg_yelp__reviews'), 'yelp_user_id') }}

),

final as (

    select
        {{ stable_key(['yelp_user_id']) }} as user_id,
        yelp_user_id,
        user_name,
        user_profile_url as profile_url,
        user_image_url as image_url,
        surveyed_on as last_surveyed_on,
        {{ row_hash(['user_name', 'user_profile_url', 'user_image_url', 'surveyed_on']) }}
            as row_hash
    from latest

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.user_id = previous.user_id
{% endif %}
